"""Each stage of the local analyzer on its own (services/analysis/local/): text, layout, listing,
resume, matching, scoring, wording. tests/test_local_analyzer.py tests the whole; these pin what
each stage promises, on small texts written for the purpose."""
from __future__ import annotations

import pytest

from services.analysis.local.layout import listing_heading, logical_lines
from services.analysis.local.listing import parse_listing, requirement_units
from services.analysis.local.matching import assess, skill_report
from services.analysis.local.resume import parse_resume, quotable, resume_heading
from services.analysis.local.scoring import combine, fit_to_title, keyword_coverage
from services.analysis.local.text import make_unit, split_sentences, stem
from services.analysis.local.wording import gaps, summary_text

LISTING = """Senior Accountant
Northwind Logistics

Northwind Logistics is a fast-growing logistics provider with 30 warehouses.
We are seeking a Senior Accountant to join our corporate accounting team in Chicago.

Qualifications
- Bachelor's degree in Accounting or Finance
- 5+ years of accounting experience
- Hands-on experience with NetSuite or another ERP system
- Experience with Python and Tableau
- Proven experience managing budgets of $50K+ per month
- Fluency in English; Spanish is a plus

We offer a hybrid schedule and a competitive salary of $80K - $95K.
"""

RESUME = """Priya Example
Staff Accountant
Chicago, IL | priya@example.com | 312-555-0147

SUMMARY
Accountant with 4 years of experience in general ledger accounting. Proficient in Python.

EXPERIENCE
Staff Accountant, Midwest Parts Inc., Chicago, IL
Aug 2021 - Present
- Reconcile 14 bank accounts every month in NetSuite
- Built Excel models with pivot tables that cut the close from 8 to 5 days

VOLUNTEER
Treasurer, Chess Club
2010 - 2021
- Kept the club's books

EDUCATION
Bachelor of Science in Accounting, University of Illinois, 2019

SKILLS
NetSuite, Python, Excel, GAAP
"""


def requirements_of(listing_text: str) -> dict[str, object]:
    listing = parse_listing(listing_text, "")
    return {unit.text: unit for unit in requirement_units(listing)}


# --- text ------------------------------------------------------------------------------------------


def test_snowball_stems_in_each_language_and_joins_families_across_them() -> None:
    assert stem("managed") == stem("management") == stem("manager") == "manag"
    assert stem("gestionar", "es") == stem("gestiones", "es")
    assert stem("analysis") == stem("analítica".replace("í", "i"), "es") == stem("análisis".replace("á", "a"), "es")
    assert stem("node.js") == "node.js"


def test_a_spanish_unit_shares_terms_with_its_english_equivalent() -> None:
    spanish, english = make_unit("Experiencia con conciliaciones bancarias"), make_unit("Bank reconciliations experience")
    assert {stem("reconciliations"), stem("experience")} <= spanish.terms & english.terms


def test_a_listing_cuts_semicolons_only_between_whole_clauses() -> None:
    assert split_sentences("Fluency in English; Spanish is a plus", 5) == ["Fluency in English; Spanish is a plus"]
    assert split_sentences("3+ years of applied ML engineering experience; strong Python skills with PyTorch", 5) == [
        "3+ years of applied ML engineering experience", "strong Python skills with PyTorch"]


# --- layout ----------------------------------------------------------------------------------------


def test_a_hard_wrapped_requirements_paragraph_stays_one_line() -> None:
    text = ("Requirements: 4+ years of professional Python experience; deep knowledge of async programming\n"
            "with asyncio; experience with Docker.")
    assert logical_lines(text) == [text.replace("\n", " ")]


def test_headings_are_recognised_with_or_without_text_after_them() -> None:
    assert listing_heading("Qualifications") == ("req", "")
    assert listing_heading("Requirements: 3+ years of Java") == ("req", "3+ years of Java")
    assert listing_heading("Experience with Tableau") is None


# --- listing ---------------------------------------------------------------------------------------


def test_pitches_company_lines_and_pay_are_not_requirements() -> None:
    found = requirements_of(LISTING)
    assert set(found) == {
        "Bachelor's degree in Accounting or Finance", "5+ years of accounting experience",
        "Hands-on experience with NetSuite or another ERP system", "Experience with Python and Tableau",
        "Proven experience managing budgets of $50K+ per month", "Fluency in English; Spanish is a plus",
    }


@pytest.mark.parametrize("pitch", [
    "We're hiring an Enterprise Account Executive to join our sales team in Denver.",
    "Estamos buscando un Java Developer altamente motivado para unirse a nuestro equipo.",
    "Our mission is to put a reader in every home.",
    "Join our team! Ofrecemos formación continua.",
])
def test_a_pitch_is_not_a_requirement_even_under_a_requirements_heading(pitch: str) -> None:
    assert pitch not in requirements_of(f"Requirements:\n- {pitch}\n- 3+ years of Java experience\n")


# --- resume ----------------------------------------------------------------------------------------


def test_resume_headings_open_sections() -> None:
    assert resume_heading("WORK EXPERIENCE") == "work"
    assert resume_heading("LICENSES & CERTIFICATIONS") == "credentials"
    assert resume_heading("Volunteer Experience") == "volunteer"
    assert resume_heading("EXPERIENCIA PROFESIONAL") == "work"
    assert resume_heading("Reconcile 14 bank accounts") is None


def test_the_resume_knows_what_is_shown_from_what_is_only_claimed() -> None:
    resume = parse_resume(RESUME, parse_listing(LISTING, ""))
    sections = {unit.text: unit.section for unit in resume.units}
    assert sections["Reconcile 14 bank accounts every month in NetSuite"] == "work"
    assert sections["Kept the club's books"] == "volunteer"
    assert sections["NetSuite, Python, Excel, GAAP"] == "skills"
    assert "netsuite" in resume.shown_skills and "python" not in resume.shown_skills
    assert "python" in resume.skills


def test_years_are_counted_from_work_not_volunteering() -> None:
    resume = parse_resume(RESUME, parse_listing(LISTING, ""))
    assert resume.years == 4  # the stated 4 years; the volunteer 2010 - 2021 is not employment
    assert resume.years_evidence == "Accountant with 4 years of experience in general ledger accounting."


@pytest.mark.parametrize("line,ok", [
    ("EXPERIENCE", False),
    ("Aug 2021 - Present", False),
    ("Chicago, IL | priya@example.com | 312-555-0147", False),
    ("Staff Accountant, Midwest Parts Inc., Chicago, IL", False),
    ("Reconcile 14 bank accounts every month in NetSuite", True),
    ("Bachelor of Science in Accounting, University of Illinois, 2019", True),
])
def test_only_real_resume_lines_may_be_quoted(line: str, ok: bool) -> None:
    resume = parse_resume(RESUME, parse_listing(LISTING, ""))
    units = {unit.text: unit for unit in resume.units}
    unit = units.get(line)
    assert (unit is not None and quotable(unit)) is ok


# --- matching --------------------------------------------------------------------------------------


def assessed(requirement: str):
    listing = parse_listing(LISTING, "")
    resume = parse_resume(RESUME, listing)
    unit = requirements_of(LISTING)[requirement]
    return assess(unit, resume)


def test_a_tool_used_at_work_is_met_and_quoted_from_that_work() -> None:
    result = assessed("Hands-on experience with NetSuite or another ERP system")
    assert (result.verdict, result.evidence) == ("met", "Reconcile 14 bank accounts every month in NetSuite")


def test_a_skill_only_claimed_and_one_missing_is_partial_not_met() -> None:
    assert assessed("Experience with Python and Tableau").verdict == "partial"


def test_fewer_years_than_asked_are_partial_and_the_degree_is_met_from_education() -> None:
    assert assessed("5+ years of accounting experience").verdict == "partial"
    degree = assessed("Bachelor's degree in Accounting or Finance")
    assert (degree.verdict, degree.evidence) == ("met", "Bachelor of Science in Accounting, University of Illinois, 2019")


def test_nothing_related_is_missing_without_evidence() -> None:
    result = assessed("Proven experience managing budgets of $50K+ per month")
    assert (result.verdict, result.evidence) == ("missing", None)


def test_skill_report_splits_listing_skills_into_matched_and_missing() -> None:
    listing = parse_listing(LISTING, "")
    report = skill_report(listing, parse_resume(RESUME, listing))
    assert "netsuite" in report.matched and "tableau" in report.missing


# --- scoring and wording ---------------------------------------------------------------------------


def test_the_blend_stays_in_range_and_prefers_the_fitting_resume() -> None:
    listing = parse_listing(LISTING, "Senior Accountant")
    scores = {}
    for name, text in (("fit", RESUME), ("barista", "Barista\nExperience\nPrepared coffee drinks for guests.")):
        resume = parse_resume(text, listing)
        assessments = [assess(unit, resume) for unit in requirement_units(listing)]
        scores[name] = combine(skill_report(listing, resume), assessments, keyword_coverage(listing, resume),
                               fit_to_title(listing, resume), listing)
    assert 0 <= scores["barista"] < scores["fit"] <= 100
    assert scores["fit"] - scores["barista"] >= 30


def test_wording_reports_counts_and_gaps() -> None:
    listing = parse_listing(LISTING, "Senior Accountant")
    resume = parse_resume(RESUME, listing)
    skills = skill_report(listing, resume)
    assessments = [assess(unit, resume) for unit in requirement_units(listing)]
    text = summary_text(60, listing, skills, assessments, resume)
    assert text.startswith("Good match (60/100) for Senior Accountant.") and "requirements" in text
    assert any("Proven experience managing budgets" in note for note in gaps(skills, assessments, resume))


CAREER_CHANGER = """Sam Example
Junior Accountant

EXPERIENCE
Junior Accountant, Lakeside Books
2022 - 2023
- Reconciled bank accounts and prepared journal entries in QuickBooks

Registered Nurse, St. Anne Hospital
2015 - 2022
- Cared for up to 6 post-operative patients per shift

VOLUNTEER
Treasurer, Chess Club
2010 - 2023
- Kept the club's accounting books
"""


def test_years_are_counted_in_the_requirement_s_subject() -> None:
    listing = parse_listing("Requirements:\n- 3+ years of accounting experience\n- 5+ years of nursing experience\n", "")
    resume = parse_resume(CAREER_CHANGER, listing)
    assert [(role.start, role.end) for role in resume.roles] == [(2022, 2023), (2015, 2022)]
    assert resume.years == 8  # 2015 - 2023 in all; the volunteer years are not employment
    verdicts = {unit.text: assess(unit, resume).verdict for unit in requirement_units(listing)}
    # One year of accounting (not eight) against three: related, not shown.
    assert verdicts == {"3+ years of accounting experience": "partial", "5+ years of nursing experience": "met"}


# --- evidence that names what is asked (1.2.0) ------------------------------------------------------

def test_an_example_list_in_brackets_is_not_cut_at_e_g() -> None:
    assert split_sentences("Experience with SMS marketing (e.g. Attentive, Postscript)") == [
        "Experience with SMS marketing (e.g. Attentive, Postscript)"]
    assert split_sentences("Standard finance systems (e.g. SAP). Excel.") == ["Standard finance systems (e.g. SAP).", "Excel."]


MARKETER = """Jordan Example

SUMMARY
Digital marketer with 4 years of experience running paid search, paid social and email campaigns.

EXPERIENCE
Digital Marketing Specialist, Cedar & Pine Home Goods, Austin, TX
2021 - Present
- Plan and send weekly email campaigns in Klaviyo to 180,000 subscribers
- Manage a $60K monthly budget across Google Ads and Meta Ads

SKILLS
Google Ads, Meta Ads, Klaviyo, Excel (pivot tables), English and Spanish
"""


def assessed_for(requirement: str, resume_text: str):
    listing = parse_listing(f"Requirements:\n- {requirement}\n", "")
    resume = parse_resume(resume_text, listing)
    return assess(requirement_units(listing)[0], resume)


@pytest.mark.parametrize(("line", "ok"), [
    ("Plan and send weekly email campaigns in Klaviyo to 180,000 subscribers", True),  # present tense: work
    ("Digital Marketing Specialist, Cedar & Pine Home Goods, Austin, TX", False),  # a title line
])
def test_a_bullet_in_the_present_tense_is_work_not_a_title_line(line: str, ok: bool) -> None:
    units = {unit.text: unit for unit in parse_resume(MARKETER, parse_listing(LISTING, "")).units}
    assert quotable(units[line]) is ok


def test_the_quote_names_the_tool_asked_for_rather_than_a_summary_sharing_words() -> None:
    result = assessed_for("Experience with Klaviyo or a similar email marketing platform", MARKETER)
    assert result.evidence == "Plan and send weekly email campaigns in Klaviyo to 180,000 subscribers"


def test_a_requirement_of_skills_alone_is_never_quoted_from_a_line_sharing_only_filler() -> None:
    """ "Experiencia con SAP o con otro ERP": a summary sharing "experience" is not evidence; the
    NetSuite line (an ERP) is."""
    result = assessed_for("Experiencia con SAP o con otro ERP", RESUME)
    assert result.evidence == "Reconcile 14 bank accounts every month in NetSuite"


def test_for_years_asked_the_line_stating_years_in_the_subject_is_quoted() -> None:
    result = assessed_for("5+ years of digital marketing experience", MARKETER)
    assert result.evidence.startswith("Digital marketer with 4 years of experience")


def test_examples_in_brackets_and_a_language_s_level_do_not_narrow_a_skill_down() -> None:
    """ "Excel skills (lookups, charts)": the brackets illustrate; "Fluency in English": a
    languages line states the level in its own words. Both are met by what the resume shows."""
    excel = assessed_for("Excel skills (lookups, charts)", RESUME)
    assert excel.verdict == "met", excel
    assert assessed_for("Fluency in English; Spanish is a plus", MARKETER).verdict == "met"


DEVELOPER = """John Example

SUMMARY
Java developer with the ability to work in a team and self-direct with little supervision.

EXPERIENCE
Software Engineer, Acme Corp, Madrid
2019 - Present
- Collaborated in an Agile development team of 8 engineers on a Spring Boot platform
- Negotiated API contracts with partner teams and presented the design to clients
"""


def test_behavioural_requirements_in_spanish_are_met_by_what_the_resume_says_in_english() -> None:
    """The issue's own example: "work independently and in a team" against "ability to work in a
    team and self-direct". "De manera", "de forma" are filler; "colaborar" and "collaborated" are
    teamwork; "presented" and "negotiated" name those skills."""
    both = assessed_for("Habilidad para trabajar de manera efectiva tanto de forma independiente como en equipo.",
                        DEVELOPER)
    assert both.verdict == "met", both
    team = assessed_for("Capacidad para colaborar con el equipo", DEVELOPER)
    assert (team.verdict, team.evidence) == (
        "met", "Collaborated in an Agile development team of 8 engineers on a Spring Boot platform")
    assert assessed_for("Excellent negotiation and presentation skills", DEVELOPER).verdict == "met"


FRONT_DESK = """Daniel Example

WORK EXPERIENCE
Front Desk {title} — Bayfront Grand Hotel, Miami, FL
March 2022 – Present
• Run the front desk of a 312-room hotel, handling up to 250 arrivals a day in Opera PMS

Front Desk Agent — Coral Inn Suites, Fort Lauderdale, FL
June 2019 – February 2022
• Worked the front desk: checked guests in and out, processed payments and managed room keys
"""


@pytest.mark.parametrize(("title", "verdict"), [("Supervisor", "met"), ("Agent", "partial")])
def test_an_included_span_of_years_is_counted_in_its_own_subject(title: str, verdict: str) -> None:
    """ "Including at least 1 year in a supervisory role" is a second span with its own subject
    ("supervisory" and "Supervisor" are one family), and the current job, begun in the latest year
    the resume names, counts that year."""
    result = assessed_for("3+ years of front desk experience, including at least 1 year in a supervisory role",
                          FRONT_DESK.format(title=title))
    assert result.verdict == verdict, result


def test_the_resume_s_own_profession_does_not_show_a_soft_skill() -> None:
    """ "Experience mentoring junior accountants": an accountant's resume names accountants
    everywhere, which shows what the person is, not that they mentored anyone."""
    result = assessed_for("Experience mentoring junior accountants", RESUME)
    assert (result.verdict, result.evidence) == ("missing", None)


def test_a_soft_skill_claimed_in_a_skills_list_is_not_quoted_as_its_evidence() -> None:
    resume = RESUME.replace("NetSuite, Python, Excel, GAAP", "NetSuite, Python, Excel, GAAP, Communication, Leadership")
    result = assessed_for("Excellent written communication skills", resume)
    assert result.evidence is None or "Communication, Leadership" not in result.evidence, result


SCIENTIST = """Harvey Example

SUMMARY
Machine Learning Engineer with 5 years of experience building models.

EXPERIENCE
Machine Learning Engineer, Acme AI, 2019 - Present
- Built fraud detection models in Python and deployed them on Kubernetes

EDUCATION
Bachelor of Science in Computer Science, UC San Diego, 2014

SKILLS
Python, R, Statistics, TensorFlow, SQL
"""


def test_a_degree_is_quoted_from_the_education_section_not_a_skills_list() -> None:
    result = assessed_for("Estudiantes de Ingeniería de Sistemas, Informática, Estadística o afines", SCIENTIST)
    assert result.evidence == "Bachelor of Science in Computer Science, UC San Diego, 2014", result


SELLER = """Marcus Example

EXPERIENCE
Account Executive, Summit HR Software, Denver, CO, 2021 - Present
- Closed $1.4M in new annual recurring revenue in 2023, 124% of quota, selling to mid-market companies
- Run the full sales cycle from discovery to negotiation and close

Sales Development Representative, Peakline Analytics, Boulder, CO, 2019 - 2021
- Booked 25 qualified meetings a month through cold calling and email sequences

SKILLS
Salesforce, HubSpot, Gong, MEDDIC, negotiation, cold calling
"""


def test_the_specific_skill_asked_for_outranks_the_resume_s_own_profession_in_the_quote() -> None:
    """ "A sales methodology such as MEDDIC": every line of a seller's resume is about sales;
    the line naming MEDDIC is the evidence."""
    result = assessed_for("Familiarity with a sales methodology such as MEDDIC or Challenger", SELLER)
    assert result.evidence == "Salesforce, HubSpot, Gong, MEDDIC, negotiation, cold calling", result
