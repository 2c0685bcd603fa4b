"""The one bilingual word catalogue: every word the engine and the site show, in English and French.

Each entry is `key: (English, French)`.  A countable word is `key: ((one, many), (un, plusieurs))`,
so counts read "1 record" / "2 records" and "1 enregistrement" / "2 enregistrements".  VALUES gives
the labels of values rules return and facts take (a value with no entry prints as it is), UNITS
those of the units facts declare.  Policy text (labels, clause text, citations) comes from the
policies, not from here.
"""
from __future__ import annotations

WORDS_BY_KEY: dict[str, tuple] = {
    # -- decisions: the text and HTML explanations -------------------------------------------------------
    "decision": ("Decision", "Décision"),
    "as_of": ("as of", "au"),
    "outcome": ("Outcome", "Résultat"),
    "colon": (":", "\u00a0:"),  # French sets a no-break space before a colon: « Résultat : décidé »
    "decided": ("decided", "décidé"),
    "undetermined": ("undetermined", "indéterminé"),
    "refused": ("refused", "refusé"),
    "conflict": ("conflict", "conflit"),
    "missing": ("Facts needed to decide", "Faits nécessaires pour décider"),
    "clauses": ("Clauses applied", "Dispositions appliquées"),
    "why_not": ("Conditions not met", "Conditions non remplies"),
    "refusal": ("Refused under", "Refusé en vertu de"),
    "true": ("yes", "oui"),
    "false": ("no", "non"),
    "facts_read": ("facts read", "faits lus"),
    "version": ("version in force from", "version en vigueur depuis"),
    "approved": ("approved", "approuvée le"),
    "value": ("value", "valeur"),
    "alternative": ("satisfied by", "remplie par"),
    "none_satisfied": ("no alternative satisfied", "aucune solution de rechange remplie"),
    "policy": ("Policy version", "Version de la politique"),
    "source_lang": ("", " (texte source en anglais seulement)"),
    "source_en_only": ("", "texte source en anglais seulement"),
    "exception_applied": ("exception applied", "exception appliquée"),
    "not_recorded": ("Trace level 'none': no clauses were recorded.",
                     "Niveau de trace « none » : aucune disposition n'a été enregistrée."),
    "not_given": ("not given", "non fourni"),
    "range": ("salary range", "échelle de traitement"),
    "withheld": ("[withheld]", "[retenu]"),
    "gap": ("Missing from the source text", "Absent du texte source"),
    "view_public": ("Public view: personal information withheld under",
                    "Vue publique : renseignements personnels retenus en vertu de"),
    "exception_unknown": ("exception that may apply: not known without",
                          "exception qui pourrait s'appliquer : inconnu sans"),
    "source_gap": ("a gap in the source text", "une lacune du texte source"),
    "unchanged": ("exceptions that may apply but could not change the result",
                  "exceptions qui pourraient s'appliquer sans pouvoir changer le résultat"),
    "presumptions": ("Decided under these presumptions (facts not given)",
                     "Décidé selon ces présomptions (faits non fournis)"),
    "presumed": ("presumed", "présumé"),
    "strict": ("Strict evaluation: no fact was presumed", "Évaluation stricte : aucun fait n'a été présumé"),
    "known_on": ("as known on", "selon ce qui était connu le"),
    "known_from": ("known from", "connue depuis le"),
    "approval date": ("its approval date", "sa date d'approbation"),
    "effective date (the source gives no approval date)": (
        "its effective date: the source gives no approval date",
        "sa date d'entrée en vigueur : la source ne donne pas de date d'approbation"),
    "excluded": ("Versions in force but not yet known, left out",
                 "Versions en vigueur mais pas encore connues, écartées"),
    "used_instead": ("used instead", "utilisée à la place"),
    "none_known": ("none known", "aucune connue"),
    "steps": ("steps (trace level full)", "étapes (niveau de trace full)"),
    # the HTML explanation only
    "status": ("Status", "Statut"),
    "value_head": ("Value", "Valeur"),
    "field": ("Field", "Champ"),
    "fact": ("Fact", "Fait"),
    "facts_given": ("Facts given", "Faits fournis"),
    "no_facts": ("No facts were given.", "Aucun fait n'a été fourni."),
    "messages": ("Refusals and conflicts", "Refus et conflits"),
    "conflict_under": ("Conflict under", "Conflit en vertu de"),
    "clause": ("clause", "disposition"),
    "rule": ("rule", "règle"),
    "table": ("table", "table"),
    "see_above": ("see above", "voir ci-dessus"),
    "quoted_above": ("source text quoted above", "texte source cité plus haut"),
    "keys": ("table keys", "clés de la table"),
    "missing_here": ("facts missing here", "faits manquants ici"),
    "refused_by": ("refused by", "refusé par"),
    "not_determined": ("not determined", "non déterminé"),
    "location": ("location", "emplacement"),
    "condition": ("condition", "condition"),
    "audit": ("Audit record", "Données de vérification"),
    "engine_version": ("Engine version", "Version du moteur"),
    "trace_level": ("Trace level", "Niveau de trace"),
    "log_id": ("Log entry", "Entrée du journal"),
    "seq": ("Sequence number", "Numéro d'ordre"),
    "made_at": ("Recorded at", "Enregistrée le"),
    "hash": ("Record hash", "Empreinte de l'enregistrement"),
    "prev_hash": ("Previous record hash", "Empreinte de l'enregistrement précédent"),
    "subject": ("Subject", "Personne visée"),
    "in_clause": ("in", "dans"),
    "exception_not_applied": ("exception not applied", "exception non appliquée"),
    "version_label": ("version", "version"),
    # -- the documentation site ---------------------------------------------------------------------------
    "site": ("Policies", "Politiques"),
    "site_intro": ("Every instrument encoded in this policy set: each rule beside the source text it encodes, "
                   "its tables, and the tests that check it.",
                   "Chacun des instruments codés dans cet ensemble de politiques : chaque règle à côté du texte "
                   "source qu'elle code, ses tables et les tests qui la vérifient."),
    "instruments": ("Instruments", "Instruments"),
    "instrument": ("Instrument", "Instrument"),
    "id": ("Id", "Identifiant"),
    "kind": ("Kind", "Type"),
    "title": ("Title", "Titre"),
    "title_en": ("Title (English)", "Titre (anglais)"),
    "title_fr": ("Title (French)", "Titre (français)"),
    "source": ("Source", "Source"),
    "in_force": ("In force", "En vigueur"),
    "from": ("From", "Du"),
    "rescinded": ("Rescinded", "Abrogé"),
    "open_ended": ("open-ended: the source gives no in-force date",
                   "sans limite : la source ne donne pas de date d'entrée en vigueur"),
    "replaces": ("Replaces", "Remplace"),
    "files": ("Policy files", "Fichiers de politique"),
    "counts": ("Counts", "Nombres"),
    "rules": ("Rules", "Règles"),
    "rule_head": ("Rule", "Règle"),
    "kind_rule": ("Rule", "Règle"),
    "kind_table": ("Table", "Table"),
    "decisions": ("Public decisions", "Décisions publiques"),
    "public_decision": ("Public decision", "Décision publique"),
    "tables": ("Tables", "Tables"),
    "catalogues": ("Catalogues", "Catalogues"),
    "catalogue": ("Catalogue", "Catalogue"),
    "queries": ("Queries", "Requêtes"),
    "query": ("Query", "Requête"),
    "sections": ("Sections", "Sections"),
    "tests": ("Test cases", "Cas de test"),
    "record": ("Record", "Fiche"),
    "inventory": ("Sections of the instrument", "Sections de l'instrument"),
    "inventory_summary": ("operative sections encoded", "sections opérantes codées"),
    "applied_summary": ("applied by a public decision", "appliquées par une décision publique"),
    "applied_by": ("Applied by (public decisions)", "Appliquée par (décisions publiques)"),
    "unapplied": ("encoded, applied by no public decision", "codée, appliquée par aucune décision publique"),
    "section": ("Section", "Section"),
    "operative": ("operative", "opérante"),
    "informative": ("informative", "informative"),
    "encoded_by": ("Encoded by", "Codée par"),
    "citation": ("Citation", "Citation"),
    "clause_id": ("Clause id", "Identifiant de disposition"),
    "label": ("Label", "Libellé"),
    "label_en": ("Label (English)", "Libellé (anglais)"),
    "label_fr": ("Label (French)", "Libellé (français)"),
    "note": ("Note", "Note"),
    "type": ("Result type", "Type du résultat"),
    "parent": ("Part of", "Fait partie de"),
    "defined_in": ("Defined in", "Défini dans"),
    "disclosure": ("Personal information", "Renseignements personnels"),
    "message": ("Refusal message", "Message de refus"),
    "source_text": ("Source text", "Texte source"),
    "encoded_rule": ("Encoded rule", "Règle codée"),
    "all_of": ("all of these hold", "toutes ces conditions sont remplies"),
    "any_of": ("any of these holds", "l'une de ces conditions est remplie"),
    "record_fields": ("record of these fields", "fiche composée de ces champs"),
    "requires": ("requires (else the case is refused)", "exige (sinon le cas est refusé)"),
    "exceptions": ("exceptions", "exceptions"),
    "exception": ("Exception", "Exception"),
    "when": ("when", "lorsque"),
    "then": ("then the value is", "alors la valeur est"),
    "default": ("default", "par défaut"),
    "gap_head": ("Gap", "Lacune"),
    "version_from": ("Version in force from", "Version en vigueur à compter du"),
    "with_instrument": ("with its instrument", "avec son instrument"),
    "facts_it_reads": ("Facts it reads", "Faits lus"),
    "presumed_when": ("Presumed when not given", "Présumé s'il n'est pas fourni"),
    "allowed": ("Allowed values", "Valeurs permises"),
    "reads_no_facts": ("This rule reads no facts.", "Cette règle ne lit aucun fait."),
    "depends": ("What depends on it", "Ce qui en dépend"),
    "direct": ("direct", "direct"),
    "no_dependents": ("Nothing depends on it.", "Rien n'en dépend."),
    "uses": ("What it uses", "Ce qu'elle utilise"),
    "uses_nothing": ("It uses no other rule or table.", "Elle n'utilise aucune autre règle ni table."),
    "used_by": ("Rules that use it", "Règles qui l'utilisent"),
    "covering": ("Tests that cover it", "Tests qui la couvrent"),
    "tested_directly": ("tested directly", "testée directement"),
    "through": ("through", "au moyen de"),
    "untested": ("No test case evaluates this rule.", "Aucun cas de test n'évalue cette règle."),
    "versions": ("Versions over time", "Versions dans le temps"),
    "effective": ("Effective", "En vigueur le"),
    "last_day": ("Last day in force", "Dernier jour en vigueur"),
    "approved_head": ("Approved", "Approuvée"),
    "text": ("Text", "Texte"),
    "same_text": ("(text as above)", "(texte ci-dessus)"),
    "keys_head": ("Keys", "Clés"),
    "value_type": ("Value type", "Type des valeurs"),
    "version_head": ("Version", "Version"),
    "version_label_head": ("Version label", "Libellé de la version"),
    "fields": ("Fields", "Champs"),
    "entries": ("Entries", "Entrées"),
    "uncertain": ("uncertain", "incertain"),
    "parameters": ("Parameters (each optional)", "Paramètres (tous facultatifs)"),
    "matches": ("matches", "correspond à"),
    "generated": ("Generated by policyengine", "Produit par policyengine"),
    "policy_hash": ("policy hash", "empreinte des politiques"),
    "switch": ("Français", "English"),
    "min": ("min", "min"),
    "max": ("max", "max"),
    "unit": ("unit", "unité"),
    "list_of": ("list of", "liste de"),
    # -- counted words: (singular, plural) in each language ------------------------------------------------
    "n_record": (("record", "records"), ("enregistrement", "enregistrements")),
    "n_case": (("case", "cases"), ("cas", "cas")),
    "n_day": (("day", "days"), ("jour", "jours")),
    "n_month": (("month", "months"), ("mois", "mois")),
}

# Labels of values that rules return and facts take; en defaults to the value itself.
VALUES: dict[str, tuple] = {
    "mandatory": ("mandatory", "obligatoire"),
    "optional": ("optional", "facultatif"),
    "met": ("met", "satisfaite"),
    "not_met": ("not_met", "non satisfaite"),
    "no_standard_prescribed": ("no_standard_prescribed", "aucune norme prescrite"),
    "surpassed": ("surpassed", "a dépassé les attentes"),
    "met_all": ("met_all", "a satisfait à toutes les attentes"),
    "met_most": ("met_most", "a satisfait à la plupart des attentes"),
    "did_not_meet": ("did_not_meet", "n'a pas satisfait aux attentes"),
    "unable_to_assess": ("unable_to_assess", "impossible d'évaluer"),
    "minimum": ("minimum", "minimum"),
    "maximum": ("maximum", "maximum"),
    "home organization": ("home organization", "organisation d'attache"),
    "host organization": ("host organization", "organisation d'accueil"),
    "participating organization": ("participating organization", "organisation participante"),
    "host assignment manager": ("host assignment manager", "gestionnaire d'affectation de l'organisation d'accueil"),
    "assignment_manager": ("assignment_manager", "gestionnaire d'affectation"),
    "candidate": ("candidate", "candidat"),
    "language school": ("language school", "école de langues"),
    "income tax": ("income tax", "impôt sur le revenu"),
    "Employment Insurance premiums": ("Employment Insurance premiums", "cotisations d'assurance-emploi"),
    "Canada Pension Plan or Quebec Pension Plan": ("Canada Pension Plan or Quebec Pension Plan",
                                                   "Régime de pensions du Canada ou Régime de rentes du Québec"),
    "bi-weekly by direct deposit": ("bi-weekly by direct deposit", "aux deux semaines par dépôt direct"),
    "structured_interviews": ("structured_interviews", "entrevues structurées"),
    "reference_checks": ("reference_checks", "vérification des références"),
    "assignment_plans_and_reviews": ("assignment_plans_and_reviews", "plans d'affectation et évaluations"),
    "other_relevant_tools": ("other_relevant_tools", "autres outils pertinents"),
    "rates of pay": ("rates of pay", "taux de rémunération"),
    "salary increments or performance pay": ("salary increments or performance pay",
                                             "augmentations d'échelon ou rémunération au rendement"),
    "salary range revisions": ("salary range revisions", "révisions de l'échelle de traitement"),
    "vacation entitlements": ("vacation entitlements", "droits aux congés annuels"),
    "PL group": ("PL group", "groupe PL"),
    "PL rates of pay": ("PL rates of pay", "taux de rémunération du groupe PL"),
    "PL salary increments or performance pay": ("PL salary increments or performance pay",
                                                "augmentations d'échelon ou rémunération au rendement du groupe PL"),
    "PL salary range revisions": ("PL salary range revisions", "révisions de l'échelle de traitement du groupe PL"),
    "educational_component": ("educational_component", "volet éducatif"),
    "educational_component_travel": ("educational_component_travel", "déplacements liés au volet éducatif"),
    "CSPS": ("CSPS", "EFPC"),
    "program": ("program", "programme"),
    "policy": ("policy", "politique"),
    "plan": ("plan", "plan"),
    "directive": ("directive", "directive"),
    "standard": ("standard", "norme"),
    "OCHRO": ("OCHRO", "BDPRH"),
}

# The units facts declare (policies' `unit:`), in both languages.
UNITS: dict[str, tuple] = {
    "CAD": ("CAD", "$ CA"),
    "CAD a year": ("CAD a year", "$ CA par année"),
    "attempts": ("attempts", "tentatives"),
    "boards": ("boards", "comités"),
    "consecutive working days": ("consecutive working days", "jours ouvrables consécutifs"),
    "days": ("days", "jours"),
    "days in the 52-week period": ("days in the 52-week period", "jours sur la période de 52 semaines"),
    "hours a week": ("hours a week", "heures par semaine"),
    "managers": ("managers", "gestionnaires"),
    "months": ("months", "mois"),
    "percent (rating %, Appendix B s. 13)": ("percent (rating %, Appendix B s. 13)",
                                             "pour cent (pourcentage de la cote, annexe B, art. 13)"),
    "percent of base salary": ("percent of base salary", "pour cent du salaire de base"),
    "performance reviews": ("performance reviews", "évaluations du rendement"),
    "weeks": ("weeks", "semaines"),
}

LANGS = ("en", "fr")


class Words(dict):
    """The catalogue in one language (key -> text), knowing which language it is."""

    def __init__(self, lang: str):
        i = LANGS.index(lang)
        super().__init__((k, v[i] if isinstance(v[i], str) else v[i][0]) for k, v in WORDS_BY_KEY.items())
        self.lang = lang


WORDS = {lang: Words(lang) for lang in LANGS}


def lang_of(lang) -> str:
    """'en' or 'fr' from a language code or a Words; anything else is English."""
    lang = getattr(lang, "lang", lang)
    return lang if lang in LANGS else "en"


def words(lang) -> Words:
    return WORDS[lang_of(lang)]


def count(n: int, key: str, lang="en") -> str:
    """'1 record', '2 records'; in French 0 and 1 take the singular ('0 enregistrement')."""
    one, many = WORDS_BY_KEY[key][LANGS.index(lang_of(lang))]
    singular = n == 1 or (lang_of(lang) == "fr" and n == 0)
    return f"{n} {one if singular else many}"


def value_label(value: str, lang="en") -> str | None:
    """The label of a value in `lang`, or None when the catalogue has none."""
    entry = VALUES.get(value)
    return entry[LANGS.index(lang_of(lang))] if entry else None


def unit_label(unit: str, lang="en") -> str | None:
    entry = UNITS.get(unit)
    return entry[LANGS.index(lang_of(lang))] if entry else None
