"""Callback endpoints (stub, being written)."""
from flask import Blueprint
bp = Blueprint("callback", __name__)
