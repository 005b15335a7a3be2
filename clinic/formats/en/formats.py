"""English dates as the clinic writes them to patients: "7 December 2026",
the same order as the Spanish "7 de diciembre de 2026" and as the consult's
"Monday 7 December 2026, 2:30 p.m." (clinic.templatetags.clinic_time).
Django's own English is "Dec. 7, 2026"; everything else stays Django's."""

DATE_FORMAT = "j F Y"
