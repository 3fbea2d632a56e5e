"""The web UI for officers, reviewers and coordinators: server-rendered pages (Jinja2 + htmx) on the node's app."""
