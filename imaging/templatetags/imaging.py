from django import template

from ..selectors import case_imaging_flags

register = template.Library()


@register.simple_tag
def imaging_flags(case):
    """The case's imaging warnings (name/DOB mismatch, study older than 12 months)."""
    return case_imaging_flags(case)
