"""Value pools built once per (locale, generator version) from a seeded Faker.

Indexing a pool with a keyed integer is how rows get realistic text without
seeding Faker per row (much faster, same determinism). The pools depend on the
pinned Faker version; golden digests catch any drift.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker
from faker.providers.person.pt_BR import Provider as PersonPtBR

from factories.spec import GENERATOR_VERSION

STREET_TYPES: tuple[str, ...] = (
    "Rua",
    "Avenida",
    "Travessa",
    "Alameda",
    "Praça",
    "Estrada",
    "Rodovia",
    "Largo",
)
FREE_MAIL = ("gmail.com", "hotmail.com", "yahoo.com.br", "uol.com.br", "outlook.com")
# Real places are public geography, not PII; Faker's pt_BR cities are surnames.
CITIES: tuple[tuple[str, str], ...] = (
    ("São Paulo", "SP"),
    ("Campinas", "SP"),
    ("Santos", "SP"),
    ("Ribeirão Preto", "SP"),
    ("Rio de Janeiro", "RJ"),
    ("Niterói", "RJ"),
    ("Belo Horizonte", "MG"),
    ("Uberlândia", "MG"),
    ("Juiz de Fora", "MG"),
    ("Vitória", "ES"),
    ("Curitiba", "PR"),
    ("Londrina", "PR"),
    ("Florianópolis", "SC"),
    ("Joinville", "SC"),
    ("Porto Alegre", "RS"),
    ("Caxias do Sul", "RS"),
    ("Salvador", "BA"),
    ("Feira de Santana", "BA"),
    ("Recife", "PE"),
    ("Fortaleza", "CE"),
    ("Natal", "RN"),
    ("João Pessoa", "PB"),
    ("Maceió", "AL"),
    ("Aracaju", "SE"),
    ("Teresina", "PI"),
    ("São Luís", "MA"),
    ("Belém", "PA"),
    ("Manaus", "AM"),
    ("Macapá", "AP"),
    ("Boa Vista", "RR"),
    ("Porto Velho", "RO"),
    ("Rio Branco", "AC"),
    ("Palmas", "TO"),
    ("Goiânia", "GO"),
    ("Brasília", "DF"),
    ("Cuiabá", "MT"),
    ("Campo Grande", "MS"),
)
_ACTIVITIES = (
    "Comércio de Alimentos",
    "Distribuidora",
    "Serviços de Tecnologia",
    "Transportes",
    "Materiais de Construção",
    "Farmácia",
    "Supermercados",
    "Telecomunicações",
    "Energia",
    "Engenharia",
    "Papelaria",
    "Auto Peças",
    "Restaurante",
    "Educação",
)
_COMPANY_SUFFIXES = ("Ltda.", "S.A.", "EIRELI", "ME")
_POOL_SIZE = 1024


def ascii_lower(text: str) -> str:
    """'João' -> 'joao': email-safe form of a pool token."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c.isascii() and c.isalpha()).lower()


def _single_words(names: tuple[str, ...] | Mapping[str, float]) -> tuple[str, ...]:
    # Multi-word entries ("Ana Clara", "da Costa") would make masked names unparseable.
    return tuple(sorted({n for n in names if n.isalpha()}))


@dataclass(frozen=True)
class Pools:
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    companies: tuple[str, ...]
    position: Mapping[str, int]
    """Token -> index within its own pool (female, male, surnames, street types)."""
    ascii: Mapping[str, str]
    """Token -> ascii lower-case form, for emails."""
    female_set: frozenset[str]
    male_set: frozenset[str]
    surname_set: frozenset[str]
    given: tuple[str, ...]
    """Female then male given names."""


@lru_cache(maxsize=4)
def pools(locale: str = "pt_BR", version: str = GENERATOR_VERSION) -> Pools:
    """The pools of one locale and generator version (pure; memoised)."""
    if locale != "pt_BR":
        raise ValueError(f"only pt_BR pools are defined, got {locale!r}")
    seed = int.from_bytes(hashlib.sha256(f"pools/{locale}/{version}".encode()).digest()[:8])
    fake = Faker(locale)
    fake.seed_instance(seed)
    female = _single_words(PersonPtBR.first_names_female)
    male = tuple(n for n in _single_words(PersonPtBR.first_names_male) if n not in female)
    surnames = _single_words(PersonPtBR.last_names)
    streets = tuple(fake.street_name() for _ in range(_POOL_SIZE))
    companies = tuple(
        f"{fake.random_element(surnames)} {fake.random_element(_ACTIVITIES)}"
        f" {fake.random_element(_COMPANY_SUFFIXES)}"
        for _ in range(_POOL_SIZE)
    )
    position: dict[str, int] = {}
    for pool in (female, male, surnames, STREET_TYPES):
        if set(pool) & set(position):
            raise RuntimeError("token pools overlap; masked names would be ambiguous")
        position.update({tok: i for i, tok in enumerate(pool)})
    ascii_map = {tok: ascii_lower(tok) for tok in (*female, *male, *surnames)}
    return Pools(
        female,
        male,
        surnames,
        streets,
        CITIES,
        companies,
        position,
        ascii_map,
        frozenset(female),
        frozenset(male),
        frozenset(surnames),
        female + male,
    )
