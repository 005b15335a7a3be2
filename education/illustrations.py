"""The stretching library's own drawings (scripts/draw_stretches.py draws them).

A stretch shows the picture staff uploaded, or else the drawing made for its
slug in static/education/stretches/. The descriptions below are seeded into
``Stretch.illustration_alt`` (staff can edit them), so a screen reader hears
the positions in words.
"""

from pathlib import Path

from django.conf import settings
from django.templatetags.static import static

DRAWINGS_DIR = Path(settings.BASE_DIR) / "static" / "education" / "stretches"
# One drawing per file: viewBox 440 x 170 (start, arrow, hold).
WIDTH, HEIGHT = 440, 170

DESCRIPTIONS = {
    "chin-tuck": "Drawing, side view, standing: the head first pokes forward, then the chin slides straight back so the head sits over the shoulders.",
    "side-neck-stretch": "Drawing, front view, standing: the head first upright, then tilted so one ear moves toward the shoulder, a hand resting lightly on the head.",
    "neck-turn": "Drawing, front view, standing: first looking straight ahead, then the head turned gently to one side.",
    "shoulder-blade-squeeze": "Drawing, side view, standing: the arms first hang loosely, then the elbows bend and draw back to squeeze the shoulder blades together.",
    "doorway-chest-stretch": "Drawing, side view, in a doorway: a bent arm rests on the frame at shoulder height, then the person steps forward to open the chest.",
    "self-hug-stretch": "Drawing, front view, standing: the arms first open wide, then crossed over the chest with each hand on the opposite shoulder.",
    "seated-twist": "Drawing, front view, on a chair: first facing forward, hands on knees, then the upper body turned to one side, a hand on the chair back.",
    "childs-pose": "Drawing, side view, on the floor: first on hands and knees, then sitting back toward the heels, chest lowered, arms reaching forward on the floor.",
    "thread-the-needle": "Drawing, side view, on the floor: first on hands and knees, then one arm slides under the body so that shoulder and the head rest on the floor.",
    "knee-to-chest": "Drawing, side view, lying on the back: first both knees bent with feet flat, then one knee drawn toward the chest with the hands.",
    "lying-twist": "Drawing, seen from above, lying on the back with arms out wide: first the legs together, then both knees lowered to one side, shoulders down.",
    "sphinx-stretch": "Drawing, side view, lying on the front: first flat with forearms on the floor, then the chest lifted onto the forearms while the hips stay down.",
    "figure-four-stretch": "Drawing, side view, lying on the back: first one ankle crossed over the other bent knee, then that thigh drawn toward the chest with the hands.",
    "towel-hamstring-stretch": "Drawing, side view, lying on the back with a towel looped round one foot: first the knee bent, then the leg straightened up toward the ceiling.",
    "kneeling-hip-flexor-stretch": "Drawing, side view, kneeling on one knee with the other foot in front: first upright, then the hips eased forward to stretch the front of the hip.",
}  # fmt: skip


def has_drawing(slug: str) -> bool:
    return slug in DESCRIPTIONS and (DRAWINGS_DIR / f"{slug}.svg").is_file()


def drawing_url(slug: str) -> str | None:
    """The static URL of the drawing made for ``slug``, if there is one."""
    if not has_drawing(slug):
        return None
    path = f"education/stretches/{slug}.svg"
    try:
        return static(path)
    except ValueError:
        # Manifest storage before collectstatic (seed_demo runs first on a new
        # deployment): the plain name still serves through the finders.
        return settings.STATIC_URL + path
