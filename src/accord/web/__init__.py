"""The web UI for officers, reviewers and coordinators: server-rendered pages (Jinja2 + htmx) on the node's app."""

from __future__ import annotations

from accord.web.install import install_web as install

__all__ = ["install"]
