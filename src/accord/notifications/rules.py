"""The notification rules this node runs (data/notifications/rules.yaml), loaded and checked once per process."""

from __future__ import annotations

from functools import cache

from accord.datafiles import load
from accord.directory.officers import Role
from accord.domain.notification_rules import NotificationRules
from accord.errors import ConfigurationError
from accord.i18n import _

RULES_FILE = ("notifications", "rules.yaml")


@cache
def notification_rules() -> NotificationRules:
    """The shipped rules; a rule that names a role no officer can have stops the node at start-up."""
    rules = load(NotificationRules, *RULES_FILE)
    known = {role.value for role in Role}
    for rule in rules.rules:
        unknown = sorted(set(rule.roles) - known)
        if unknown:
            raise ConfigurationError(
                _("data/notifications/rules.yaml: rule {rule} names unknown roles {unknown}; roles are {known}").format(
                    rule=rule.id, unknown=", ".join(unknown), known=", ".join(sorted(known))
                )
            )
    return rules
