"""Building now what the first message would otherwise wait for: the screens' term indexes and tables and the search
index's word pattern (measured: the first urgent message after a start took 1.5 s more to decide than the next)."""

from __future__ import annotations

import structlog

from accord.datafiles import load_agreement
from accord.domain.agreement import Agreement
from accord.domain.parties import Party
from accord.policy.engine import CedarPolicy, DisclosurePolicy

log = structlog.get_logger(__name__)

# A message in each of the languages and scripts the screens read: deciding it builds what the first real message
# would otherwise wait for (the term lists' indexes, the transliteration tables, the person-record patterns).
WARM_UP_BODY = (
    "Please confirm the consignee's licence and phone +1 604 555 0100. Merci de vérifier l'importateur. "
    "कृपया आयातक कंपनी की जानकारी दें। ਕੰਪਨੀ ਦੇ ਲਾਇਸੈਂਸ ਦੀ ਪੁਸ਼ਟੀ ਕਰੋ। Kripya importer ki jaankari dein.\n"
    "1. A. Example, DOB 1980-01-01, passport X1234567"
)


def warm_policy(party: Party, policy: DisclosurePolicy, agreement: Agreement) -> None:
    """Decide one message in every language the screens read, so that the first real one does not build their
    indexes and tables; a failure is logged, and the first message decides, and reports, whatever failed."""
    from accord.policy.cases import Case, build_message, load_table
    from accord.policy.pack import shipped_pack_dir

    try:
        table = load_table(shipped_pack_dir(party) / "cases.yaml")  # its base: a message as the pack's cases have it
        case = Case.model_validate(
            {"name": "warm-up", "message": {"body": WARM_UP_BODY}, "expect": {"decision": "allow"}}
        )
        message, principal = build_message(table, case, agreement, 0)
        policy.decide(message, principal, None)
    except Exception as exc:  # only a head start
        log.warning("the policy could not be warmed up", error=str(exc))


def warm_search_words() -> None:
    """The search index's word pattern (a scan of every code point) and what reading a text in each script builds."""
    from accord.domain.search import build_word_pattern, words

    build_word_pattern()
    words(WARM_UP_BODY)


def warm_shipped_policies() -> None:
    """`warm_policy` for each party's shipped pack, and the search words: what any node's screens build first,
    whichever party it serves (a process that will fork workers or nodes builds it once, for all of them)."""
    from accord.policy.pack import load_pack, shipped_pack_dir

    agreement = load_agreement()
    for party in Party:
        try:
            policy = CedarPolicy(load_pack(shipped_pack_dir(party)), agreement)
        except Exception as exc:  # only a head start: the node reports a pack that does not load
            log.warning("a shipped pack could not be warmed up", party=party.value, error=str(exc))
            continue
        warm_policy(party, policy, agreement)
    warm_search_words()
