"""Capabilities, one module each. create_app imports these by name; HANDLER_MODULES may override."""

ENABLED_BY_DEFAULT = ("help", "checkins", "study", "progress", "profile", "leave", "admin", "responsibilities",
                      "quiz", "contest", "points", "awareness",
                      "pushes", "push_preview", "push_prefs", "push_feedback",
                      "activities", "activity_admin", "surveys", "survey_admin", "feedback", "binding",
                      "reports", "dashboard")
