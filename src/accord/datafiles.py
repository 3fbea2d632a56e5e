"""The one loader for the data files people edit (YAML): read, parse and validate against a model, with an error that
names the file and what is wrong. Files shipped under accord/data are loaded once per process; the composition root
loads every one of them at start-up, so a broken file stops the node before it serves anything."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from accord.domain.agreement import Agreement
from accord.domain.handling import NationalMarkings
from accord.domain.parties import Agency, Party
from accord.errors import AccordError, ConfigurationError, validation_text
from accord.i18n import Language, _

DEFAULT_AGREEMENT = "ca-in"
M = TypeVar("M", bound=BaseModel)

# libyaml's safe loader where PyYAML was built with it: a node reads every data file at start-up, and the pure-Python
# parser spends seconds on the neutrality lexicons alone. Both accept the same YAML and build the same values.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def data_root() -> Traversable:
    """Where the shipped data files are: accord/data inside the installed package."""
    return resources.files("accord").joinpath("data")


def shipped(*parts: str) -> Traversable:
    """A file shipped with Accord, under accord/data."""
    return data_root().joinpath(*parts)


def parse(
    model: type[M],
    text: str,
    label: str,
    error: type[AccordError] = ConfigurationError,
    *,
    kind: str = "data file",
    extra: Any = None,
) -> M:
    """`text` (YAML) validated as `model`, or `error` naming `label` and what is wrong; `extra` is merged into the
    parsed mapping first (values computed by the caller, e.g. the agencies of an agreement)."""
    try:
        raw = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise error(_("{label} is not YAML: {exc}").format(label=label, exc=exc)) from exc
    if extra is not None:
        if not isinstance(raw, dict):
            raise error(_("{label} is not a YAML mapping").format(label=label))
        raw = {**raw, **extra}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(
            _("{label} is not a valid {kind}: {validation_text}").format(
                label=label, kind=kind, validation_text=validation_text(exc, limit=10, unnamed="(file)")
            )
        ) from exc


def read_text(source: Traversable | Path, label: str, error: type[AccordError] = ConfigurationError) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(_("cannot read {label}: {exc}").format(label=label, exc=exc)) from exc


def load_file(model: type[M], path: Path, error: type[AccordError] = ConfigurationError, kind: str = "data file") -> M:
    """A data file outside the package (an operator's policy pack, a case table), validated as `model`."""
    return parse(model, read_text(path, str(path), error), str(path), error, kind=kind)


def load(model: type[M], *parts: str) -> M:
    """A data file shipped under accord/data, validated as `model`; read once per process."""
    loaded = _load_shipped(model, parts)
    assert isinstance(loaded, model)
    return loaded


@cache
def _load_shipped(model: type[BaseModel], parts: tuple[str, ...]) -> BaseModel:
    label = "data/" + "/".join(parts)
    return parse(model, read_text(shipped(*parts), label), label)


# ---- the agreement and the sandbox's accounts


class AgencyList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    source: str | None = None
    agencies: tuple[dict[str, Any], ...]


class SampleOfficer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str
    name: str
    agency: str
    roles: tuple[str, ...]
    email: str | None = None
    duty: bool = False  # on duty for the agency: told of what arrives for it

    @property
    def sample_password(self) -> str:
        return f"{self.username}-SAMPLE-pw"


class SampleOfficers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    CA: tuple[SampleOfficer, ...]
    IN: tuple[SampleOfficer, ...]


def _agencies(party: Party) -> list[dict[str, Any]]:
    name = f"{party.value.lower()}.yaml"
    listed = load(AgencyList, "agencies", name)
    if listed.party is not party:
        raise ConfigurationError(_("data/agencies/{name} is not for party {party}").format(name=name, party=party))
    return [dict(entry, party=party.value) for entry in listed.agencies]


def forget_loaded() -> None:
    """Read the shipped files again at the next load (after an operator replaced one, or in a test)."""
    _load_shipped.cache_clear()
    load_agreement.cache_clear()
    national_markings.cache_clear()


@cache
def load_agreement(name: str = DEFAULT_AGREEMENT) -> Agreement:
    label = f"data/agreement/{name}.yaml"
    agencies = [entry for party in Party for entry in _agencies(party)]
    return parse(
        Agreement,
        read_text(shipped("agreement", f"{name}.yaml"), label),
        label,
        kind="agreement",
        extra={"agencies": agencies},
    )


def load_sample_officers(party: Party) -> tuple[SampleOfficer, ...]:
    officers: tuple[SampleOfficer, ...] = getattr(load(SampleOfficers, "sandbox", "officers.yaml"), party.value)
    agreement = load_agreement()
    for officer in officers:
        if agreement.agency(party, officer.agency) is None:
            raise ConfigurationError(
                _("sample officer {username} names unknown agency {agency}").format(
                    username=officer.username, agency=officer.agency
                )
            )
    return officers


def agencies_of(party: Party) -> tuple[Agency, ...]:
    return tuple(a for a in load_agreement().agencies if a.party is party)


@cache
def national_markings() -> NationalMarkings:
    """The official French and Hindi forms of the parties' markings; each must be a marking of the agreement."""
    markings = load(NationalMarkings, "handling", "markings.yaml")
    mapping = load_agreement().classification_mapping
    for party, named in markings.markings.items():
        known = {name.casefold() for name in mapping.get(party, {})}
        unknown = sorted(name for name in named if name.casefold() not in known)
        if unknown:
            raise ConfigurationError(
                _(
                    "data/handling/markings.yaml names markings the agreement does not map for {party}: {unknown}"
                ).format(party=party, unknown=", ".join(unknown))
            )
    return markings


def marking_label(party: Party, marking: str, language: Language | None = None) -> str:
    """`party`'s national marking ("Protected B") as written in `language` (default: the current language):
    "Protégé B" in French; as given where the party's scheme has no official form in that language. TLP labels are
    not national markings: they stay in English and are not passed here."""
    return national_markings().label(party, marking, language)
