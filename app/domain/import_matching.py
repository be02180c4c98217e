"""From the rows of an import file to the perimeters to write: commune names matched with
their département, former commune codes mapped to the current commune, Paris, Lyon or Marseille
narrowed to the arrondissements listed beside them, pseudo-CPTS (« HORS CPTS », « Zone
blanche ») set apart as uncovered communes. Pure functions over the reference data."""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.domain.communes import COMMUNE_CODE, search_form
from app.domain.imports import Issue, SourceRow
from app.domain.perimeter import ReferenceGraph

MAX_NAME_LENGTH = 200
MAX_SUGGESTIONS = 50  # unknown commune names for which close names are looked for
ARTICLES = ("l", "le", "la", "les")
# « Garde (La) », « Escarène (L') », « Garde, La »: the article written after the name.
_TRAILING_ARTICLE = re.compile(
    r"^(?P<name>.*?)\s*(?:\(\s*(?P<a>l['’]|le|la|les)\s*\)|,\s*(?P<b>l['’]|le|la|les))\s*$",
    re.IGNORECASE)
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
# Names that mean "no CPTS here": rows listing uncovered communes, not a CPTS.
_PSEUDO_CPTS = re.compile(
    r"^(?:hors|sans|aucune|pas de|non couverte? par une?|en dehors des?) cpts"
    r"|^zones? blanches?$|^non couvertes?$|^communes? non couvertes?$|^aucune$|^neant$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class FormerCode:
    """A former commune code (commune déléguée, associée, or an older code) and where it went."""

    old_code: str
    old_nom: str | None
    new_code: str
    kind: str


@dataclass
class ImportReference:
    """The reference data an import is matched against: the units, their names, the former
    codes of the COG and the names of départements."""

    graph: ReferenceGraph
    history: dict[str, tuple[FormerCode, ...]]
    departements: dict[str, str]  # code -> nom
    by_name: dict[str, list[str]] = field(default_factory=dict)  # commune_key -> codes
    by_bare_name: dict[str, list[str]] = field(default_factory=dict)  # without article
    by_former_name: dict[str, list[FormerCode]] = field(default_factory=dict)
    departement_keys: dict[str, str] = field(default_factory=dict)  # search form -> code


def commune_key(name: str) -> str:
    """Accent-, case- and article-position-insensitive form of a commune name."""
    text = name.strip()
    found = _TRAILING_ARTICLE.match(text)
    if found and found.group("name"):
        article = (found.group("a") or found.group("b") or "").replace("’", "'")
        text = f"{article} {found.group('name')}"
    words = [_ABBREVIATIONS.get(word, word) for word in search_form(text).split()]
    return " ".join(words)


def bare_key(key: str) -> str:
    words = key.split()
    return " ".join(words[1:]) if len(words) > 1 and words[0] in ARTICLES else key


def build_reference(graph: ReferenceGraph, history: Iterable[FormerCode],
                    departements: dict[str, str]) -> ImportReference:
    reference = ImportReference(graph=graph, history={}, departements=departements)
    grouped: dict[str, list[FormerCode]] = {}
    for entry in history:
        grouped.setdefault(entry.old_code, []).append(entry)
        if entry.old_nom and entry.kind in ("deleguee", "associee"):
            reference.by_former_name.setdefault(commune_key(entry.old_nom), []).append(entry)
    reference.history = {code: tuple(entries) for code, entries in grouped.items()}
    for code, unit in graph.units.items():
        key = commune_key(unit.nom)
        reference.by_name.setdefault(key, []).append(code)
        reference.by_bare_name.setdefault(bare_key(key), []).append(code)
    for code, nom in departements.items():
        reference.departement_keys[search_form(nom)] = code
    return reference


def is_pseudo_cpts(name: str) -> bool:
    """« HORS CPTS », « Zone blanche », « Sans CPTS »…: uncovered communes, not a CPTS."""
    return bool(_PSEUDO_CPTS.match(search_form(name)))


def clean_cpts_name(name: str) -> str:
    return " ".join(name.split())


def _label(reference: ImportReference, code: str) -> str:
    unit = reference.graph.units.get(code)
    return f"{unit.nom} ({code})" if unit else code


def _candidate(reference: ImportReference, code: str) -> str:
    unit = reference.graph.units[code]
    return f"{unit.nom} ({code}, dép. {unit.departement})"


@dataclass
class _Found:
    code: str | None
    warnings: list[Issue] = field(default_factory=list)
    error: Issue | None = None


class Matcher:
    """Finds the unit of each row: by code (current or former), else by name."""

    def __init__(self, reference: ImportReference) -> None:
        self.reference = reference
        self.units = reference.graph.units
        self.suggestions = 0

    def departement(self, raw: str | None, line: int) -> tuple[str | None, Issue | None]:
        if raw is None or not raw.strip():
            return None, None
        text = raw.strip().upper()
        head = re.match(r"^(\d{2,3}|2[AB])\b", text)
        if head:
            code = head.group(1)
        elif text.isdigit() and len(text) == 1:
            code = text.zfill(2)
        else:
            found = self.reference.departement_keys.get(search_form(raw))
            if found is None:
                return None, Issue(line, "unknown_departement",
                                   f"Ligne {line} : département inconnu « {raw.strip()} ».")
            code = found
        if code not in self.reference.departements:
            return None, Issue(line, "unknown_departement",
                               f"Ligne {line} : le département {code} n'est pas chargé.")
        return code, None

    def by_code(self, raw: str, row: SourceRow) -> _Found:
        line = row.line
        code = raw.strip().upper()
        if code.endswith(".0"):
            code = code[:-2]
        warnings: list[Issue] = []
        if len(code) == 4 and code.isdigit():
            warnings.append(Issue(line, "leading_zero",
                                  f"Ligne {line} : le code {code} a perdu son zéro initial "
                                  f"(tableur) ; lu comme 0{code}."))
            code = "0" + code
        if not COMMUNE_CODE.match(code):
            return _Found(None, error=Issue(line, "invalid_code", f"Ligne {line} : « {raw} » "
                                                                  "n'est pas un code commune."))
        if code in self.units:
            return _Found(code, warnings)
        if code in self.reference.history:
            return self._former(code, line, warnings)
        hints: tuple[str, ...] = ()
        if row.commune:
            named = self.by_name(row.commune, None, line)
            hints = (_candidate(self.reference, named.code),) if named.code else ()
        hint = f" Le nom « {row.commune} » correspond à {hints[0]}." if hints else ""
        return _Found(None, error=Issue(line, "unknown_commune",
                                        f"Ligne {line} : aucune commune ne porte le code "
                                        f"{code}.{hint}", communes=(code,), candidates=hints))

    def _former(self, code: str, line: int, warnings: list[Issue]) -> _Found:
        targets: set[str] = set()
        first = self.reference.history[code][0]
        pending, seen = [code], {code}
        while pending:
            for entry in self.reference.history.get(pending.pop(), ()):
                if entry.new_code in self.units:
                    targets.add(entry.new_code)
                elif entry.new_code in self.reference.history and entry.new_code not in seen:
                    seen.add(entry.new_code)
                    pending.append(entry.new_code)
        former = f"{code} ({first.old_nom})" if first.old_nom else code
        if len(targets) == 1:
            target = targets.pop()
            kind = {"deleguee": ", commune déléguée", "associee": ", commune associée"}.get(
                first.kind, "")
            warnings.append(Issue(line, "former_code",
                                  f"Ligne {line} : {former} est un ancien code{kind} ; "
                                  f"la commune actuelle est {_label(self.reference, target)}.",
                                  communes=(code, target)))
            return _Found(target, warnings)
        if targets:
            listed = tuple(_candidate(self.reference, t) for t in sorted(targets))
            return _Found(None, error=Issue(
                line, "ambiguous_former_code",
                f"Ligne {line} : l'ancien code {former} a été partagé entre plusieurs communes "
                f"actuelles : {', '.join(listed)}. Indiquez la commune actuelle.",
                communes=(code,), candidates=listed))
        went = ", ".join(sorted({e.new_code for e in self.reference.history[code]}))
        return _Found(None, error=Issue(
            line, "unknown_commune", f"Ligne {line} : l'ancien code {former} renvoie à {went}, "
                                     "absente des communes chargées.", communes=(code,)))

    def by_name(self, name: str, departement: str | None, line: int) -> _Found:
        key = commune_key(name)

        def within(codes: Iterable[str]) -> list[str]:
            return sorted(c for c in codes
                          if departement is None or self.units[c].departement == departement)

        found = within(self.reference.by_name.get(key, ()))
        if not found:
            found = within(self.reference.by_bare_name.get(bare_key(key), ()))
        where = f" dans le département {departement}" if departement else ""
        if len(found) == 1:
            return _Found(found[0])
        if len(found) > 1:
            listed = tuple(_candidate(self.reference, c) for c in found)
            return _Found(None, error=Issue(
                line, "ambiguous_commune_name",
                f"Ligne {line} : plusieurs communes s'appellent « {name} »{where} : "
                f"{', '.join(listed)}. Donnez le code commune ou le département.",
                communes=tuple(found), candidates=listed))
        former = [entry for entry in self.reference.by_former_name.get(key, ())
                  if entry.new_code in self.units and (
                      departement is None or self.units[entry.new_code].departement == departement)]
        targets = sorted({entry.new_code for entry in former})
        if len(targets) == 1:
            return _Found(targets[0], [Issue(
                line, "former_name", f"Ligne {line} : « {name} » est une ancienne commune, "
                                     f"aujourd'hui dans {_label(self.reference, targets[0])}.",
                communes=(former[0].old_code, targets[0]))])
        return _Found(None, error=Issue(
            line, "unknown_commune_name",
            f"Ligne {line} : aucune commune ne s'appelle « {name} »{where}."
            + (" Noms proches : " + ", ".join(close) + "." if (close := self._close(
                key, departement)) else ""),
            candidates=tuple(close)))

    def _close(self, key: str, departement: str | None) -> list[str]:
        """Names close to an unknown one (the first `MAX_SUGGESTIONS` unknown names only:
        each costs a scan of the names)."""
        self.suggestions += 1
        if self.suggestions > MAX_SUGGESTIONS:
            return []
        keys = {k: codes for k, codes in self.reference.by_name.items()
                if departement is None
                or any(self.units[c].departement == departement for c in codes)}
        return [_candidate(self.reference, code)
                for k in difflib.get_close_matches(key, list(keys), n=5, cutoff=0.75)
                for code in keys[k]][:5]

    def find(self, row: SourceRow) -> _Found:
        if row.code:
            return self.by_code(row.code, row)
        departement, problem = self.departement(row.departement, row.line)
        if problem is not None:
            return _Found(None, error=problem)
        if not row.commune:
            return _Found(None, error=Issue(row.line, "missing_commune",
                                            f"Ligne {row.line} : ni code ni nom de commune."))
        return self.by_name(row.commune, departement, row.line)


@dataclass
class PlannedCpts:
    """A CPTS of the file: its name, the lines that gave it and its units, in file order."""

    name: str
    lines: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.lines[0]


@dataclass
class Plan:
    perimeters: list[PlannedCpts]
    uncovered: list[str]
    pseudo_names: list[str]
    warnings: list[Issue]
    errors: list[Issue]


def _check_name(raw: str, line: int) -> tuple[str, Issue | None]:
    name = clean_cpts_name(raw)
    if not name:
        return name, Issue(line, "missing_name", f"Ligne {line} : le nom de la CPTS est vide.")
    if _CONTROL.search(raw):
        return name, Issue(line, "invalid_name", f"Ligne {line} : le nom de la CPTS contient "
                                                 "des caractères de contrôle.")
    if len(name) > MAX_NAME_LENGTH:
        return name, Issue(line, "name_too_long", f"Ligne {line} : le nom de la CPTS dépasse "
                                                  f"{MAX_NAME_LENGTH} caractères.")
    return name, None


def plan_import(rows: Sequence[SourceRow], reference: ImportReference) -> Plan:
    """Match every row; group the units by CPTS; list every error and warning with its line."""
    matcher = Matcher(reference)
    warnings: list[Issue] = []
    errors: list[Issue] = []
    perimeters: dict[str, PlannedCpts] = {}
    uncovered: dict[str, int] = {}
    pseudo: dict[str, tuple[int, set[str]]] = {}  # name -> (first line, communes)
    given: dict[tuple[str, str], tuple[int, str]] = {}  # (cpts, unit) -> (line, as written)
    names: dict[str, tuple[str, bool, bool]] = {}  # as written -> (cleaned, valid, pseudo)
    for row in rows:
        known = names.get(row.cpts)
        if known is None or not known[1]:
            name, problem = _check_name(row.cpts, row.line)
            names[row.cpts] = (name, problem is None, is_pseudo_cpts(name))
        else:
            name, problem = known[0], None
        found = matcher.find(row)
        warnings.extend(found.warnings)
        if problem is not None:
            errors.append(problem)
        if found.error is not None:
            errors.append(found.error)
        if problem is not None or found.code is None:
            continue
        code = found.code
        written = (row.code or row.commune or "").strip().upper()
        if names[row.cpts][2]:
            pseudo.setdefault(name, (row.line, set()))[1].add(code)
            uncovered.setdefault(code, row.line)
            continue
        earlier = given.get((name, code))
        if earlier is not None:
            if earlier[1] == written:
                errors.append(Issue(row.line, "duplicate_commune",
                                    f"Ligne {row.line} : {_label(reference, code)} figure deux "
                                    f"fois dans « {name} » (lignes {earlier[0]} et {row.line}).",
                                    communes=(code,)))
            else:
                warnings.append(Issue(row.line, "merged_duplicate",
                                      f"Ligne {row.line} : « {written} » et « {earlier[1]} » "
                                      f"(ligne {earlier[0]}) désignent toutes deux "
                                      f"{_label(reference, code)} : comptée une fois.",
                                      communes=(code,)))
            continue
        given[(name, code)] = (row.line, written)
        if row.partial:
            warnings.append(Issue(row.line, "partial_commune",
                                  f"Ligne {row.line} : « {name} » ne couvre qu'une partie de "
                                  f"{_label(reference, code)} (découpage infra-communal) ; les "
                                  "périmètres sont faits de communes entières : la commune est "
                                  "retenue entière, et le partage apparaît comme un "
                                  "recouvrement.", communes=(code,)))
        planned = perimeters.setdefault(name, PlannedCpts(name))
        planned.lines.append(row.line)
        planned.codes.append(code)
    for planned in perimeters.values():
        warnings.extend(_narrow_cities(planned, reference, given))
    for name, (line, codes) in pseudo.items():
        warnings.append(Issue(line, "uncovered",
                              f"« {name} » n'est pas une CPTS : ses {len(codes)} commune(s) sont "
                              "notées comme non couvertes (zone blanche) ; aucune CPTS n'est "
                              "créée à ce nom.", communes=tuple(sorted(codes))))
    claimed = {code for p in perimeters.values() for code in p.codes}
    both = sorted(set(uncovered) & claimed)
    if both:
        warnings.append(Issue(uncovered[both[0]], "uncovered_but_claimed",
                              "Communes données à la fois hors CPTS et dans une CPTS : "
                              + ", ".join(_label(reference, c) for c in both) + ".",
                              communes=tuple(both)))
    return Plan(perimeters=list(perimeters.values()), uncovered=sorted(uncovered),
                pseudo_names=list(pseudo), warnings=warnings, errors=errors)


def _narrow_cities(planned: PlannedCpts, reference: ImportReference,
                   given: dict[tuple[str, str], tuple[int, str]]) -> list[Issue]:
    """Paris, Lyon or Marseille beside some of its own arrondissements in one CPTS means
    "these arrondissements"; alone, the city stands for all of them."""
    graph = reference.graph
    issues: list[Issue] = []
    present = set(planned.codes)
    expanded: list[str] = []
    lines: list[int] = []
    for code, line in zip(planned.codes, planned.lines, strict=True):
        unit = graph.units[code]
        if unit.is_unit:
            expanded.append(code)
            lines.append(line)
            continue
        own = graph.arrondissements.get(code, ())
        listed = [c for c in own if c in present]
        if listed:
            issues.append(Issue(line, "plm_narrowed",
                                f"Ligne {line} : {unit.nom} ({code}) est donnée avec "
                                f"{len(listed)} de ses arrondissements dans « {planned.name} » : "
                                "seuls ces arrondissements sont retenus.",
                                communes=(code, *listed)))
            continue
        for arrondissement in own:
            if arrondissement not in present:
                expanded.append(arrondissement)
                lines.append(line)
                given.setdefault((planned.name, arrondissement), (line, code))
    planned.codes, planned.lines = expanded, lines
    return issues
