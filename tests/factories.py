"""Test data builders: small functions that make valid rows and files."""

from __future__ import annotations

# Valid (checksummed) fictitious numbers; 12-digit, 10-digit and samordningsnummer forms.
PERSONNUMMER = {
    "maria": ("850312-1231", "198503121231"),
    "ahmed": ("920505-2344", "199205052344"),
    "lena": ("780914-3451", "197809143451"),
    "oskar": ("20011120-4566", "200111204566"),
    "samordning": ("701063-2391", "197010632391"),
}
ALL_TEST_PERSONNUMMER = tuple(
    form for raw, long in PERSONNUMMER.values() for form in {raw, long, raw.replace("-", "")}
)

CSV_HEADER = "order_ref,office_code,given_name,family_name,personnummer,phone,email"


def windows_toml(days: tuple[str, ...], start: str, end: str, venue: str = "cafe") -> str:
    """A TOML list of weekly windows, the same hours on each of `days` ("mon", "tue" …)."""
    hours = f'start = "{start}", end = "{end}", venue = "{venue}"'
    return "[ " + ", ".join(f'{{ weekday = "{day}", {hours} }}' for day in days) + " ]"


def network_toml(
    *,
    code: str = "UPS1",
    email: str = "anna@example.se",
    windows: str = (
        '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "cafe" },\n'
        '            { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
    ),
    absences: str = '[ { from = "2026-12-21", to = "2027-01-06" } ]',
    kind: str = "cafe",
    auto_confirm: bool = False,
) -> str:
    """A one-office network file in DESIGN.md's format."""
    return f"""[[office]]
code = "{code}"
name = "Uppsala centrum"
city = "Uppsala"
slot_minutes = 15

[[office.venue]]
key = "cafe"
name = "Café Linné"
address = "Svartbäcksgatan 22, 753 33 Uppsala"
kind = "{kind}"

[[office.admin]]
email = "{email}"
name = "Anna Andersson"
phone = "+46701234567"
windows = {windows}
absences = {absences}
home_delivery = false
auto_confirm = {str(auto_confirm).lower()}
"""


def csv_row(
    order_ref: str = "SE-1",
    office_code: str = "UPS1",
    given_name: str = "Maria",
    family_name: str = "Ek",
    personnummer: str = PERSONNUMMER["maria"][0],
    phone: str = "0701112233",
    email: str = "maria.ek@example.se",
) -> str:
    """One order line matching CSV_HEADER."""
    return ",".join((order_ref, office_code, given_name, family_name, personnummer, phone, email))


def orders_csv(*rows: str, header: str = CSV_HEADER) -> str:
    """A whole orders file."""
    return "\n".join((header, *rows)) + "\n"
