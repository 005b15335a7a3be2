"""How the clinic may reach a patient: the one rule, from the consent given.

Pure: a case in, the channels out. Every message to a patient (confirmation,
status update, result ready) goes through ``patient_channels``; nothing else
reads the consent fields to decide how to write to a patient.
"""

EMAIL = "email"
TEXT = "text"
CALL = "call"


def patient_channels(case, *, texts: bool = True) -> list[str]:
    """The channels for one message to the patient of ``case``.

    Every written channel the patient agreed to and gave an address for: an
    email, a text, or both (issue 23: a patient who allowed both hears by
    both, so a message never depends on the one inbox they do not check). A
    patient with no written channel who allowed phone calls gets a call from
    a coordinator (a call task). Nothing at all without consent, or once the
    case's personal data is purged.
    ``texts=False``: no text provider is configured, so a text is not a channel.
    """
    if case.purged_at is not None:
        return []
    written = []
    if case.consent_email and case.email:
        written.append(EMAIL)
    if texts and case.consent_text and case.phone:
        written.append(TEXT)
    if written:
        return written
    if case.consent_phone and case.phone:
        return [CALL]
    return []
