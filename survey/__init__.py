"""The survey application: ``create_app()`` and nothing else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, apply_environment


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Create the app: configuration, extensions, blueprints. No migrations, no waiting."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    apply_environment(app, overrides)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from . import cli, errors, i18n, security, templating
    from .extensions import compress, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)

    # Definition files are read by init-db, which stores them; requests use the stored copies.
    app.config.setdefault("QUESTIONNAIRE_DIR",
                          str(PROJECT_ROOT / "questionnaires" / "definitions"))

    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .public import bp as public_bp
    from .staff import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(api_bp)
    return app
