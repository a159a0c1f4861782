"""RQ job functions, one module per capability; helpers live in bot/tasks.py so bot/ never imports jobs/."""
