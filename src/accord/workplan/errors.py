"""Errors of the work-plan service."""

from __future__ import annotations

from accord.errors import Conflict, InvalidInput, NotFound
from accord.i18n import N_


class UnknownItem(NotFound):
    slug = "unknown-workplan-item"
    title = N_("No such item in the work plan")


class PlanRuleViolation(InvalidInput):
    slug = "workplan-rule"
    title = N_("The change breaks a rule of the agreement or of the work plan")


class ForbiddenTransition(InvalidInput):
    slug = "forbidden-transition"
    title = N_("The workflow does not allow that status change")


class StaleProposal(Conflict):
    slug = "stale-proposal"
    title = N_("The proposal was made on an older version of the item")


class ProposalDecided(Conflict):
    slug = "proposal-decided"
    title = N_("The proposal has been decided already")


class CrossingProposals(Conflict):
    slug = "crossing-proposals"
    title = N_("This side has its own proposal on the item waiting for the other side")
