"""Command registry and dispatch (stub, being written)."""
def init_app(app, modules=None):
    app.extensions["szzs.router"] = None
