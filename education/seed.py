"""Starter stretching content, written by our spine team in plain words.

``seed_content()`` is idempotent: it creates what is missing (matched by
slug) and leaves what exists alone, so running ``seed_demo`` again never
overwrites a supervisor's edits. A starter item that was deleted comes back
on the next run; to hide one for good, unpublish it instead.
"""

# ruff: noqa: E501  (prose reads best one sentence to a line, as in intake/seed.py)

from datetime import date

from django.db import transaction

from .choices import SpineRegion
from .illustrations import DESCRIPTIONS
from .models import Condition, Routine, Stretch
from .seed_es import spanish_fill
from .services import content_set_published, routine_set_steps

REVIEWER = "Spine team (PT, DPT)"
REVIEWED_ON = date(2026, 11, 16)

CONDITIONS = [
    {
        "slug": "sciatica",
        "name": "Sciatica",
        "summary": "Pain that runs from the lower back or buttock down one leg. What it is, how gentle stretching may help, and when to get care.",
        "body": """\
Sciatica is the name for pain that follows the path of the sciatic nerve: from the lower back or buttock, down the back of one leg, sometimes as far as the foot. It can burn, ache or feel like an electric shock, and it often comes with tingling or numbness.

It is a symptom, not a diagnosis. The nerve is usually irritated by something nearby, most often a disc in the lower back, and sometimes by narrowing around the nerve or by tight muscles deep in the buttock.

## How stretching may help

Gentle stretches for the lower back, buttock and hip can ease the pressure around the nerve and help you move more freely. Many people find that the pain settles over a few weeks with gentle movement and time.

- Move within comfort. Some stretching discomfort is fine; **sharp or spreading pain is not**.
- If a stretch sends pain further down your leg, stop it and try a different one.
- Little and often works better than long sessions.

## When to get care

Speak with your doctor if the pain is not easing after a few weeks, keeps you awake, or stops you working. Get urgent care for new weakness in a leg, numbness in the groin, or any change in bladder or bowel control.
""",
    },
    {
        "slug": "neck-pain",
        "name": "Neck pain",
        "summary": "Stiffness or aching in the neck, often from posture, sleep or strain. Gentle stretches that may help, and signs that need a doctor.",
        "body": """\
Most neck pain comes from the muscles and joints of the neck being strained or stiff: long hours at a screen, an awkward night's sleep, stress, or a sudden movement. It usually improves within days to weeks.

## How stretching may help

Slow, gentle stretches keep the neck moving and can ease muscle tightness. Stretches for the upper back and chest help too, because rounded shoulders pull the head forward and load the neck.

- Move your neck slowly, and only as far as is comfortable.
- Take short breaks from screens: every half hour, sit tall and look around.

## When to get care

Speak with your doctor if pain follows a fall or accident, spreads down an arm with numbness or weakness, or comes with headache, fever or dizziness. Clumsy hands or new trouble walking need urgent care.
""",
    },
    {
        "slug": "bulging-disc",
        "name": "Bulging disc",
        "summary": "A spinal disc that spreads out past its usual edge. What that means, why it is common, and how gentle movement may help.",
        "body": """\
The discs between the bones of your spine act as cushions. With time, a disc can flatten and spread a little beyond its usual edge, like a tyre with low pressure. This is a **bulging disc**.

Bulging discs are very common, and many people who have one on an MRI have no pain at all. When a bulge does cause symptoms, it is usually because it presses near a nerve, causing back or neck pain, or pain that travels into an arm or leg.

## How stretching may help

Gentle stretches and regular movement keep the spine and hips flexible and can ease pressure on sensitive areas. Some people feel better bending backwards gently, others bending forwards: notice what eases your pain and favour that.

- Stop any stretch that makes pain spread further into your arm or leg.
- Avoid bouncing or forcing a position.

## When to get care

Speak with your doctor if pain lasts more than a few weeks, or if you have numbness, tingling or weakness. An MRI review can show whether the bulge is likely to be the cause of your symptoms.
""",
    },
    {
        "slug": "herniated-disc",
        "name": "Herniated disc",
        "summary": "When the soft centre of a spinal disc pushes through its outer layer. How it can cause pain, how stretching may help, and when to get care.",
        "body": """\
A **herniated disc** (sometimes called a slipped or ruptured disc) is when some of the soft centre of a disc pushes out through a tear in its tougher outer ring. If it presses on a nearby nerve, it can cause pain, tingling, numbness or weakness in an arm (from the neck) or a leg (from the lower back).

The good news is that most herniated discs get better on their own over weeks to months, as the body reabsorbs the material that came out.

## How stretching may help

Gentle movement is usually better than bed rest. Careful stretching of the back, hips and legs helps you stay mobile while the disc settles.

- Choose stretches that ease your symptoms, or move them back towards your spine.
- Stop any stretch that sends pain further down your arm or leg.

## When to get care

Get urgent care for new weakness, numbness in the groin, or any change in bladder or bowel control. Otherwise, speak with your doctor if the pain is not improving after a few weeks; an MRI review can help decide on next steps.
""",
    },
    {
        "slug": "arthritis-of-the-spine",
        "name": "Arthritis of the spine",
        "summary": "Wear in the small joints of the spine that causes stiffness and aching. How gentle daily stretching may keep you moving.",
        "body": """\
Arthritis of the spine (often called spinal osteoarthritis or spondylosis) is wear of the small joints that link the bones of the spine, and of the discs between them. It is a normal part of ageing, and many people have signs of it on an X-ray or MRI without much pain.

When it does cause symptoms, it is usually **stiffness** that is worst in the morning or after sitting, and aching that eases as you get moving.

## How stretching may help

Joints like to move. Gentle, regular stretching keeps the spine and hips flexible and can ease stiffness. A warm shower before stretching can make it more comfortable.

- Some people with spinal arthritis find bending backwards uncomfortable: if so, skip those stretches.
- Stretch every day, gently, rather than hard once a week.

## When to get care

Speak with your doctor if pain wakes you at night, if you feel unwell, or if you have numbness or weakness in your arms or legs.
""",
    },
]

STRETCHES = [
    # --- Neck ---
    {
        "slug": "chin-tuck",
        "name": "Chin tuck",
        "region": SpineRegion.NECK,
        "position": 10,
        "summary": "A small, slow movement that draws the head back over the shoulders and eases the strain of leaning towards a screen.",
        "helps": "Stiffness at the base of the skull and a head that drifts forward after hours at a desk or phone. It gently lengthens the back of the neck.",
        "steps": """\
1. Sit or stand tall, shoulders relaxed, looking straight ahead.
2. Slide your chin straight back, as if making a double chin. Keep your eyes level: do not tip your head up or down.
3. You should feel a gentle stretch at the back of your neck. Hold it there.
4. Relax and let your head come forward to where it started.
""",
        "hold_seconds": 20,
        "repetitions": 3,
        "breathing_cue": "Breathe slowly in through your nose and out through your mouth; let your shoulders drop each time you breathe out.",
        "cautions": "Keep the movement small. Skip it if it causes dizziness, or pain that runs into your arm.",
        "conditions": ["neck-pain", "arthritis-of-the-spine"],
    },
    {
        "slug": "side-neck-stretch",
        "name": "Side neck stretch",
        "region": SpineRegion.NECK,
        "position": 20,
        "summary": "Tilting the ear towards the shoulder to ease tight muscles along the side of the neck and the top of the shoulder.",
        "helps": "Tension along the side of the neck and the top of the shoulders, often from stress, carrying bags, or holding a phone between ear and shoulder.",
        "steps": """\
1. Sit tall and let both shoulders drop away from your ears.
2. Slowly tilt your head so your right ear moves towards your right shoulder. Keep looking forward.
3. Stop when you feel a gentle stretch along the left side of your neck. Hold.
4. Bring your head back to the middle slowly, then do the other side.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "With each slow breath out, let the shoulder on the stretched side sink a little lower.",
        "cautions": "Do not pull on your head with your hand. Stop if you feel tingling or numbness in your arm or hand.",
        "conditions": ["neck-pain", "arthritis-of-the-spine"],
    },
    {
        "slug": "neck-turn",
        "name": "Gentle neck turn",
        "region": SpineRegion.NECK,
        "position": 30,
        "summary": "Turning the head slowly to look over each shoulder, to keep the neck moving freely and ease stiffness.",
        "helps": "A stiff neck that makes it hard to look over your shoulder, for example when reversing a car.",
        "steps": """\
1. Sit tall with your shoulders relaxed and your chin level.
2. Slowly turn your head to look over your right shoulder, as far as is comfortable.
3. Hold where you feel a mild stretch.
4. Turn back to the middle slowly, then turn to the left.
""",
        "hold_seconds": 20,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe slowly and evenly; do not hold your breath while you turn.",
        "cautions": "Move slowly and keep your chin level. Stop if you feel dizzy or light-headed.",
        "conditions": ["neck-pain"],
    },
    # --- Upper back ---
    {
        "slug": "shoulder-blade-squeeze",
        "name": "Shoulder blade squeeze",
        "region": SpineRegion.UPPER_BACK,
        "position": 10,
        "summary": "Drawing the shoulder blades gently together to wake up the upper back and open rounded shoulders.",
        "helps": "Aching between the shoulder blades and rounded shoulders from sitting. It also takes some load off the neck.",
        "steps": """\
1. Sit or stand tall with your arms relaxed by your sides.
2. Gently draw your shoulder blades back and slightly down, as if trying to tuck them into your back pockets.
3. Keep your neck long and your shoulders away from your ears. Hold.
4. Slowly relax.
""",
        "hold_seconds": 20,
        "repetitions": 3,
        "breathing_cue": "Breathe in to lift your chest a little, and breathe out slowly while you hold the squeeze.",
        "cautions": "Squeeze gently, not hard. Skip it if it pinches in your shoulder.",
        "conditions": ["neck-pain"],
    },
    {
        "slug": "doorway-chest-stretch",
        "name": "Doorway chest stretch",
        "region": SpineRegion.UPPER_BACK,
        "position": 20,
        "summary": "Using a doorway to open the front of the chest, which helps the upper back sit tall.",
        "helps": "Tight chest muscles that pull the shoulders forward and round the upper back.",
        "steps": """\
1. Stand in a doorway. Place your forearms on the frame on each side, elbows a little below shoulder height.
2. Step one foot forward slowly until you feel a gentle stretch across the front of your chest.
3. Keep your back straight and your chin level. Hold.
4. Step back to release.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "breathing_cue": "Breathe deeply into your chest; each breath in opens the stretch a little.",
        "cautions": "Skip this stretch if you have had a shoulder dislocation, or if it causes shoulder pain or tingling in your hands.",
        "conditions": ["neck-pain"],
    },
    {
        "slug": "self-hug-stretch",
        "name": "Self-hug stretch",
        "region": SpineRegion.UPPER_BACK,
        "position": 30,
        "summary": "Hugging yourself to spread the shoulder blades apart and stretch the muscles between them.",
        "helps": "Tightness and aching between the shoulder blades.",
        "steps": """\
1. Sit or stand tall.
2. Wrap your arms around yourself, placing each hand on the opposite shoulder.
3. Gently round your upper back and let your chin drop slightly, as if curling around a ball.
4. Feel the stretch between your shoulder blades. Hold, then slowly sit tall again.
""",
        "hold_seconds": 20,
        "repetitions": 2,
        "breathing_cue": "Breathe into your back: feel it widen behind you as you breathe in.",
        "cautions": "Keep the curl gentle. Skip it if you have been told to avoid bending forward.",
        "conditions": ["arthritis-of-the-spine"],
    },
    # --- Mid back ---
    {
        "slug": "seated-twist",
        "name": "Seated twist",
        "region": SpineRegion.MID_BACK,
        "position": 10,
        "summary": "A slow turn of the trunk while sitting on a chair, to keep the middle of the back moving.",
        "helps": "Stiffness in the middle of the back, which can make turning, reaching and breathing deeply feel tight.",
        "steps": """\
1. Sit tall near the front of a sturdy chair, feet flat on the floor.
2. Cross your arms over your chest, or rest your hands on your thighs.
3. Slowly turn your upper body to the right, starting from the middle of your back. Keep your hips facing forward.
4. Hold where you feel a gentle stretch, then turn back to the middle and do the other side.
""",
        "hold_seconds": 20,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Sit tall as you breathe in; as you breathe out, let the turn ease a little further, without forcing it.",
        "cautions": "Do not use the chair back to pull yourself further round. Skip it if twisting causes sharp pain.",
        "conditions": ["arthritis-of-the-spine"],
    },
    {
        "slug": "childs-pose",
        "name": "Child's pose",
        "region": SpineRegion.MID_BACK,
        "position": 20,
        "summary": "Kneeling and folding forward to rest, with a long, gentle stretch along the back.",
        "helps": "A tight, tired back, from the middle down to the lower back. It is also a calming resting position.",
        "steps": """\
1. Kneel on a mat or carpet, knees apart, big toes close together.
2. Sit back towards your heels and walk your hands forward on the floor.
3. Let your chest sink towards the floor and rest your forehead on the floor or on a cushion.
4. Hold, then walk your hands back and come up slowly.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "breathing_cue": "Breathe slowly into your back and feel it rise and widen under each breath.",
        "cautions": "Put a cushion under your knees or between your hips and heels if needed. Skip it after knee or hip replacement unless your surgeon agrees.",
        "conditions": ["sciatica", "arthritis-of-the-spine"],
    },
    {
        "slug": "thread-the-needle",
        "name": "Thread the needle",
        "region": SpineRegion.MID_BACK,
        "position": 30,
        "summary": "On hands and knees, sliding one arm under the other to turn the middle back and stretch the shoulder.",
        "helps": "Stiffness in the middle back and the back of the shoulders.",
        "steps": """\
1. Start on your hands and knees, hands under your shoulders and knees under your hips.
2. Slide your right arm, palm up, under your left arm along the floor.
3. Let your right shoulder and the side of your head rest gently on the floor or a cushion.
4. Hold, then slide back slowly and do the other side.
""",
        "hold_seconds": 20,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe out slowly as you settle into the turn; keep breathing gently while you hold.",
        "cautions": "Skip it if kneeling hurts your knees, or if it causes neck or shoulder pain.",
        "conditions": [],
    },
    # --- Lower back ---
    {
        "slug": "knee-to-chest",
        "name": "Knee to chest",
        "region": SpineRegion.LOWER_BACK,
        "position": 10,
        "summary": "Lying on your back and drawing one knee towards your chest to ease the lower back and buttock.",
        "helps": "A stiff, aching lower back and tightness in the buttock. A gentle place to start if your back is sore.",
        "steps": """\
1. Lie on your back on a firm surface with both knees bent and feet flat.
2. Hold behind your right thigh and slowly draw that knee towards your chest.
3. Keep your other foot on the floor and your lower back relaxed. Hold.
4. Slowly lower the leg and do the other side.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe slowly into your belly; with each breath out, let your lower back relax into the floor.",
        "cautions": "Hold behind the thigh rather than on top of the knee. Stop if it sends pain down your leg.",
        "conditions": ["sciatica", "bulging-disc", "herniated-disc", "arthritis-of-the-spine"],
    },
    {
        "slug": "lying-twist",
        "name": "Lying knee roll",
        "region": SpineRegion.LOWER_BACK,
        "position": 20,
        "summary": "Lying on your back and letting both knees roll gently to one side, for a soft twist of the lower back.",
        "helps": "Stiffness in the lower back and sides of the trunk.",
        "steps": """\
1. Lie on your back with your knees bent, feet flat, and arms out to the sides.
2. Keeping your knees together, let them roll slowly to the right as far as is comfortable.
3. Keep both shoulders resting on the floor. Hold.
4. Bring your knees back to the middle slowly, then roll to the left.
""",
        "hold_seconds": 20,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe slowly; on each breath out, let your knees sink a little closer to the floor without pushing.",
        "cautions": "Only roll as far as is comfortable. Skip it if twisting causes sharp pain or pain down your leg.",
        "conditions": ["sciatica", "arthritis-of-the-spine"],
    },
    {
        "slug": "sphinx-stretch",
        "name": "Sphinx stretch",
        "region": SpineRegion.LOWER_BACK,
        "position": 30,
        "summary": "Lying on your front and resting up on your forearms, for a gentle backward bend of the lower back.",
        "helps": "Some people with disc problems find that gently bending backwards eases their back or leg pain.",
        "steps": """\
1. Lie on your front with your elbows under your shoulders and forearms on the floor.
2. Slowly raise your chest, resting your weight on your forearms. Keep your hips on the floor.
3. Let your lower back and belly relax. Hold.
4. Slowly lower yourself back down.
""",
        "hold_seconds": 20,
        "repetitions": 3,
        "breathing_cue": "Breathe slowly and let your belly soften towards the floor as you breathe out.",
        "cautions": "Skip this stretch if bending backwards hurts, which is common with arthritis of the spine or spinal stenosis. Stop if pain spreads further down your leg.",
        "conditions": ["bulging-disc", "herniated-disc"],
    },
    # --- Hips and legs ---
    {
        "slug": "figure-four-stretch",
        "name": "Figure-four stretch",
        "region": SpineRegion.HIPS_LEGS,
        "position": 10,
        "summary": "Lying on your back with one ankle crossed over the other knee, to stretch deep in the buttock and hip.",
        "helps": "Tightness deep in the buttock, which can add to pain that runs down the back of the leg.",
        "steps": """\
1. Lie on your back with both knees bent and feet flat.
2. Cross your right ankle over your left knee, making a figure four.
3. Hold behind your left thigh and gently draw it towards you until you feel a stretch in your right buttock.
4. Hold, then lower slowly and switch sides.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe slowly; as you breathe out, let the crossed knee relax away from you.",
        "cautions": "Keep your head and shoulders on the floor. Skip it after hip replacement unless your surgeon agrees.",
        "conditions": ["sciatica", "herniated-disc"],
    },
    {
        "slug": "towel-hamstring-stretch",
        "name": "Towel hamstring stretch",
        "region": SpineRegion.HIPS_LEGS,
        "position": 20,
        "summary": "Lying on your back with a towel around one foot, to stretch the back of the thigh without straining the back.",
        "helps": "Tight muscles at the back of the thighs, which can pull on the pelvis and add to lower back strain.",
        "steps": """\
1. Lie on your back with both knees bent. Loop a towel or belt around the ball of your right foot.
2. Slowly straighten the right leg towards the ceiling, holding the towel with both hands.
3. Stop when you feel a gentle stretch at the back of your thigh. Your knee can stay slightly bent.
4. Hold, then lower slowly and do the other side.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe out slowly and let the back of your thigh soften; do not pull harder.",
        "cautions": "If this causes tingling or pain down your leg, lower the leg until it stops, or skip the stretch.",
        "conditions": ["sciatica", "bulging-disc"],
    },
    {
        "slug": "kneeling-hip-flexor-stretch",
        "name": "Kneeling hip flexor stretch",
        "region": SpineRegion.HIPS_LEGS,
        "position": 30,
        "summary": "A half-kneeling stretch for the front of the hip, which gets tight from long hours of sitting.",
        "helps": "Tight muscles at the front of the hip that tip the pelvis forward and can add to lower back aching.",
        "steps": """\
1. Kneel on your right knee on a cushion, with your left foot flat in front of you.
2. Stand tall and gently tighten your tummy muscles.
3. Shift your weight slowly forward until you feel a stretch at the front of your right hip. Keep your back upright.
4. Hold, then ease back and switch sides.
""",
        "hold_seconds": 30,
        "repetitions": 2,
        "per_side": True,
        "breathing_cue": "Breathe slowly and steadily; stand a little taller each time you breathe in.",
        "cautions": "Hold a chair or wall for balance. Skip it if kneeling hurts, or do it standing with one foot on a low step.",
        "conditions": ["arthritis-of-the-spine"],
    },
]

ROUTINES = [
    {
        "slug": "neck-and-shoulders",
        "name": "Neck and shoulders",
        "summary": "Five gentle stretches for a stiff neck and tight shoulders, from the neck down to the upper back. About ten minutes.",
        "description": "A short routine for days at a desk or a stiff morning neck. Do it once or twice a day, sitting or standing tall.",
        "conditions": ["neck-pain", "arthritis-of-the-spine"],
        "stretches": ["chin-tuck", "side-neck-stretch", "neck-turn", "shoulder-blade-squeeze", "doorway-chest-stretch"],
    },
    {
        "slug": "lower-back-and-sciatica",
        "name": "Lower back and sciatica",
        "summary": "Five gentle stretches for the lower back, buttocks and legs, done lying down or kneeling. About fifteen minutes.",
        "description": "A calm routine for an aching lower back or pain down one leg. A mat or carpet helps. If any stretch sends pain further down your leg, skip it.",
        "conditions": ["sciatica", "bulging-disc", "herniated-disc"],
        "stretches": ["childs-pose", "knee-to-chest", "lying-twist", "figure-four-stretch", "towel-hamstring-stretch"],
    },
    {
        "slug": "whole-spine",
        "name": "Whole spine, neck to hips",
        "summary": "Seven stretches that work down the whole spine, from the neck to the hips. About twenty minutes.",
        "description": "A daily routine that keeps the whole spine moving. It starts sitting, then moves to the floor.",
        "conditions": ["arthritis-of-the-spine", "neck-pain"],
        "stretches": [
            "chin-tuck", "side-neck-stretch", "shoulder-blade-squeeze", "seated-twist",
            "knee-to-chest", "figure-four-stretch", "kneeling-hip-flexor-stretch",
        ],
    },
]  # fmt: skip

REVIEW = {"reviewed_by": REVIEWER, "reviewed_on": REVIEWED_ON, "is_published": True}


def _create(model, spec: dict):
    """Create ``spec`` unless its slug exists; return (object, created)."""
    existing = model.objects.filter(slug=spec["slug"]).first()
    if existing is not None:
        spanish_fill(existing)  # only Spanish fields still empty
        return existing, False
    if model is Stretch:
        spec.setdefault("illustration_alt", DESCRIPTIONS.get(spec["slug"], ""))
    obj = model(**spec, **REVIEW)
    spanish_fill(obj, save=False)
    obj.full_clean()
    obj.save()
    return obj, True


@transaction.atomic
def seed_content() -> None:
    conditions = {}
    for spec in CONDITIONS:
        conditions[spec["slug"]], _ = _create(Condition, spec)

    stretches = {}
    for spec in STRETCHES:
        spec = dict(spec)
        condition_slugs = spec.pop("conditions")
        stretch, created = _create(Stretch, spec)
        if created:
            stretch.conditions.set([conditions[s] for s in condition_slugs])
        stretches[stretch.slug] = stretch

    for spec in ROUTINES:
        spec = dict(spec)
        condition_slugs, stretch_slugs = spec.pop("conditions"), spec.pop("stretches")
        if (existing := Routine.objects.filter(slug=spec["slug"]).first()) is not None:
            spanish_fill(existing)
            continue
        # Steps first, then publish: a published routine is never seen empty.
        routine = Routine(**spec, reviewed_by=REVIEWER, reviewed_on=REVIEWED_ON)
        spanish_fill(routine, save=False)
        routine.full_clean()
        routine.save()
        routine.conditions.set([conditions[s] for s in condition_slugs])
        routine_set_steps(routine=routine, stretches=[stretches[s] for s in stretch_slugs])
        content_set_published(obj=routine, published=True)
