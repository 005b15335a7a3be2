"""Phone numbers as links a phone can call (``{{ clinic_phone|tel_href }}``)
and as people write them (``{{ case.phone|phone_display }}``)."""

import re

import phonenumbers
from django import template

register = template.Library()


@register.filter
def tel_href(number) -> str:
    """A ``tel:`` address for a number as people write it, or "" if it has no digits.

    Short service numbers (911) stay as they are: as a US number they would
    become +1911, which no phone dials. Numbers are not checked for validity
    (the clinic's demo number is a 555 one), only written in E.164."""
    text = str(number or "")
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    if len(digits) <= 3:
        return f"tel:{digits}"
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return f"tel:{digits}"
    return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@register.filter
def phone_display(number) -> str:
    """A stored number (E.164) as a patient writes it: (312) 555-0177 for a US
    number, the international form otherwise; as given if it does not parse."""
    text = str(number or "")
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return text
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)
