"""Default queues, routing rules, staff groups and demo staff (idempotent)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from .choices import PainDuration, Region
from .models import MriCondition, QueueMembership, RoutingRule, StaffQueue

QUEUES = [
    # slug, name, SLA hours, urgent, description
    ("urgent", "Urgent clinical call-back", 1, True, "Red-flag symptoms: call the patient back now, round the clock."),
    ("duplicate", "Duplicate check", 24, False, "Likely the same person as an open case: link or merge."),
    ("imaging", "Imaging coordination", 24, False, "No MRI yet, or one too old: arrange or collect imaging."),
    ("mri-cervical", "MRI review: cervical", 48, False,
     "Neck MRIs. A coordinator calls the patient and checks the images are complete and theirs; a clinician reads."),
    ("mri-thoracolumbar", "MRI review: thoracic and lumbar", 48, False,
     "Back MRIs. A coordinator calls the patient and checks the images are complete and theirs; a clinician reads."),
    ("conservative", "Conservative care follow-up", 72, False, "Recent pain without an MRI: guide conservative care."),
    ("general", "General intake", 24, False, "Everything no other rule placed."),
]  # fmt: skip
# Descriptions an earlier seed wrote, replaced on the next run (never a supervisor's own words).
OLD_DESCRIPTIONS = {
    "mri-cervical": "Neck MRIs for clinical review.",
    "mri-thoracolumbar": "Back MRIs for clinical review.",
}
BACK = [Region.UPPER_BACK, Region.MID_BACK, Region.LOWER_BACK, Region.HIPS_LEGS]
PROVIDED = MriCondition.PROVIDED_OR_COMING
RULES = [
    # priority, name, queue slug, conditions
    (10, "Any red flag", "urgent", {"if_red_flag": True}),
    (20, "Likely duplicate of an open case", "duplicate", {"if_duplicate": True}),
    (30, "MRI older than 12 months", "imaging", {"if_mri": PROVIDED, "if_mri_older_than_months": 12}),
    (40, "MRI of the neck", "mri-cervical", {"if_mri": PROVIDED, "if_regions": [Region.NECK]}),
    (50, "MRI of the back", "mri-thoracolumbar", {"if_mri": PROVIDED, "if_regions": BACK}),
    (60, "No MRI, pain under 6 weeks", "conservative", {"if_mri": MriCondition.NONE, "if_pain_durations": [PainDuration.UNDER_6_WEEKS]}),
    (70, "No MRI", "imaging", {"if_mri": MriCondition.NONE}),
    (80, "Anything else", "general", {}),
]  # fmt: skip

GROUP_PERMS = {
    "Coordinator": [
        "intake.view_reviewrequest", "intake.change_reviewrequest", "intake.view_staffqueue",
        "intake.view_routingrule", "intake.view_mrifile",
        "dicomnode.view_receivedstudy", "dicomnode.match_receivedstudy",
    ],
    "Clinician": [
        "intake.view_reviewrequest", "intake.change_reviewrequest", "intake.record_decision",
        "intake.view_staffqueue", "intake.view_routingrule", "intake.view_mrifile",
    ],
    "Supervisor": [
        "intake.view_reviewrequest", "intake.change_reviewrequest", "intake.view_all_cases", "intake.export_cases",
        "intake.view_staffqueue", "intake.add_staffqueue", "intake.change_staffqueue",
        "intake.view_queuemembership", "intake.add_queuemembership", "intake.change_queuemembership",
        "intake.delete_queuemembership",
        "intake.view_routingrule", "intake.add_routingrule", "intake.change_routingrule", "intake.delete_routingrule",
        "intake.view_mrifile", "clinic.view_auditentry",
        "dicomnode.view_receivedstudy", "dicomnode.match_receivedstudy",
        "clinic.view_closureday", "clinic.add_closureday", "clinic.change_closureday", "clinic.delete_closureday",
        "education.view_stretch", "education.add_stretch", "education.change_stretch", "education.delete_stretch",
        "education.view_condition", "education.add_condition", "education.change_condition", "education.delete_condition",
        "education.view_routine", "education.add_routine", "education.change_routine", "education.delete_routine",
        "education.view_routinestep", "education.add_routinestep", "education.change_routinestep", "education.delete_routinestep",
    ],
}  # fmt: skip

DEMO_PASSWORD = "demo-clinic-2026"
# Who does what (README): every queue a patient's request can reach has a
# coordinator, who makes first contact, checks the images and asks the
# questions; the MRI queues also have the clinician, who reads. The urgent
# call-back is the clinician's. coordinator2 shows the privacy rule: not in the
# MRI queues, so those cases are not theirs to see.
DEMO_STAFF = [
    # username, group, queue slugs
    ("coordinator", "Coordinator",
     ["general", "imaging", "duplicate", "conservative", "mri-cervical", "mri-thoracolumbar"]),
    ("coordinator2", "Coordinator", ["general", "imaging"]),
    ("clinician", "Clinician", ["mri-cervical", "mri-thoracolumbar", "urgent"]),
    ("supervisor", "Supervisor", []),
]  # fmt: skip


def seed_groups():
    for name, codenames in GROUP_PERMS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.add(*perms)


def seed_queues_and_rules():
    queues = {}
    for slug, name, sla, urgent, description in QUEUES:
        queues[slug], _ = StaffQueue.objects.get_or_create(
            slug=slug, defaults={"name": name, "sla_hours": sla, "is_urgent": urgent, "description": description}
        )
        if slug in OLD_DESCRIPTIONS:
            StaffQueue.objects.filter(slug=slug, description=OLD_DESCRIPTIONS[slug]).update(description=description)
    for priority, name, slug, conditions in RULES:
        RoutingRule.objects.get_or_create(
            priority=priority, defaults={"name": name, "target_queue": queues[slug], **conditions}
        )
    return queues


def seed_demo_staff(queues):
    User = get_user_model()
    for username, group, slugs in DEMO_STAFF:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@spineclinic.example", "is_staff": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=group))
        for slug in slugs:
            QueueMembership.objects.get_or_create(queue=queues[slug], user=user)
