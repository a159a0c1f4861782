"""Local WeCom API stand-in (stub, being written)."""
from flask import Blueprint
bp = Blueprint("standin", __name__)
