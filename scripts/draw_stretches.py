#!/usr/bin/env python3
"""Draw the stretching library's illustrations: one SVG per seeded stretch.

Each picture shows a neutral line figure twice, the starting position on the
left and the held position on the right, with the part that moves drawn in the
accent colour. The poses below are this project's own, drawn as joint
coordinates, so every picture shares one style and can be redrawn in one go:

    .venv/bin/python scripts/draw_stretches.py      # writes static/education/stretches/*.svg

The SVGs carry no text (captions and alt text live in the page, where they
are translated) and no scripts, styles or external references (the CSP allows
only same-origin images; an SVG shown through <img> runs nothing anyway).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "education" / "stretches"
W, H = 200, 170  # one panel
FLOOR = 155
INK, FAR, ACCENT, PROP = "#3b4452", "#9aa3af", "#0b7a66", "#b8c0c9"
LIMB, HEAD_R = 7, 11

# A pose: joints by name, the parts drawn in the accent colour, and props.
# Side views name the near limbs "1" and the far limbs "2" (drawn lighter, behind).


def standing_side(dx=0.0, **over):
    p = {
        "head": (100, 31), "neck": (100, 46), "shoulder": (100, 53), "hip": (100, 101),
        "elbow1": (101, 78), "hand1": (103, 101), "elbow2": (98, 78), "hand2": (97, 101),
        "knee1": (102, 128), "foot1": (104, 155), "knee2": (98, 128), "foot2": (96, 155),
    }  # fmt: skip
    p = {k: (x + dx, y) for k, (x, y) in p.items()}
    p.update(over)
    return p


def standing_front(**over):
    p = {
        "head": (100, 31), "neck": (100, 46), "shoulder1": (84, 54), "shoulder2": (116, 54),
        "hip": (100, 101), "hip1": (92, 101), "hip2": (108, 101),
        "elbow1": (79, 79), "hand1": (78, 103), "elbow2": (121, 79), "hand2": (122, 103),
        "knee1": (91, 128), "foot1": (89, 155), "knee2": (109, 128), "foot2": (111, 155),
        "eyes": 0,
    }  # fmt: skip
    p.update(over)
    return p


def seated_front(**over):
    p = {
        "head": (100, 47), "neck": (100, 62), "shoulder1": (84, 69), "shoulder2": (116, 69),
        "hip": (100, 110), "hip1": (93, 110), "hip2": (107, 110),
        "elbow1": (80, 91), "hand1": (90, 112), "elbow2": (120, 91), "hand2": (110, 112),
        "knee1": (91, 116), "foot1": (90, 155), "knee2": (109, 116), "foot2": (110, 155),
        "eyes": 0,
    }  # fmt: skip
    p.update(over)
    return p


def quadruped(**over):
    p = {
        "head": (176, 99), "neck": (164, 106), "shoulder": (158, 110), "hip": (100, 110),
        "elbow1": (159, 131), "hand1": (160, 154), "elbow2": (155, 131), "hand2": (156, 154),
        "knee1": (102, 152), "foot1": (64, 154), "knee2": (98, 152), "foot2": (60, 154),
    }  # fmt: skip
    p.update(over)
    return p


def supine(**over):
    """On the back, head to the left, knees bent and feet flat."""
    p = {
        "head": (28, 141), "neck": (42, 145), "shoulder": (50, 146), "hip": (110, 147),
        "elbow1": (76, 150), "hand1": (100, 151), "elbow2": (74, 149), "hand2": (98, 150),
        "knee1": (138, 117), "foot1": (160, 153), "knee2": (134, 118), "foot2": (156, 153),
    }  # fmt: skip
    p.update(over)
    return p


def prone(**over):
    """On the stomach, head to the left, forearms on the floor in front."""
    p = {
        "head": (30, 141), "neck": (44, 146), "shoulder": (52, 147), "hip": (112, 148),
        "elbow1": (60, 151), "hand1": (34, 152), "elbow2": (58, 150), "hand2": (32, 151),
        "knee1": (144, 150), "foot1": (178, 148), "knee2": (142, 149), "foot2": (176, 147),
    }  # fmt: skip
    p.update(over)
    return p


def top_view(**over):
    """Lying on the back seen from above: arms out, knees bent and up."""
    p = {
        "head": (34, 85), "neck": (48, 85), "shoulder1": (54, 70), "shoulder2": (54, 100),
        "hip": (112, 85), "hip1": (112, 77), "hip2": (112, 93),
        "elbow1": (62, 48), "hand1": (72, 26), "elbow2": (62, 122), "hand2": (72, 144),
        "knee1": (144, 78), "foot1": (160, 78), "knee2": (144, 92), "foot2": (160, 92),
        "eyes": 0,
    }  # fmt: skip
    p.update(over)
    return p


FLOOR_LINE = ("line", (10, FLOOR + 3, 190, FLOOR + 3))
MAT = ("rect", (14, 20, 172, 130))
CHAIR = ("chair", None)
DOOR = ("door", 82)

POSES = {
    "chin-tuck": (
        standing_side(head=(113, 36), neck=(104, 48), elbow1=(103, 78), hand1=(108, 100)),
        standing_side(head=(97, 30), neck=(100, 46), elbow1=(103, 78), hand1=(108, 100)),
        {"neck"},
        [FLOOR_LINE],
    ),
    "side-neck-stretch": (
        standing_front(),
        standing_front(head=(87, 36), neck=(98, 47), elbow2=(124, 40), hand2=(95, 23)),
        {"neck"},
        [FLOOR_LINE],
    ),
    "neck-turn": (
        standing_front(eyes=0),
        standing_front(eyes=-7, head=(98, 31)),
        {"neck"},
        [FLOOR_LINE],
    ),
    "shoulder-blade-squeeze": (
        standing_side(),
        standing_side(elbow1=(82, 80), hand1=(96, 90), elbow2=(80, 80), hand2=(94, 90)),
        {"arm1", "arm2"},
        [FLOOR_LINE],
    ),
    "doorway-chest-stretch": (
        standing_side(dx=8, elbow1=(84, 53), hand1=(84, 31)),
        standing_side(
            dx=22,
            head=(128, 33),
            neck=(126, 47),
            shoulder=(124, 54),
            elbow1=(84, 54),
            hand1=(84, 31),
            knee1=(134, 126),
            foot1=(142, 155),
            knee2=(120, 128),
            foot2=(112, 155),
        ),
        {"arm1", "torso"},
        [FLOOR_LINE, DOOR],
    ),  # fmt: skip
    "self-hug-stretch": (
        standing_front(elbow1=(64, 56), hand1=(42, 58), elbow2=(136, 56), hand2=(158, 58)),
        standing_front(elbow1=(92, 78), hand1=(114, 56), elbow2=(108, 82), hand2=(86, 58)),
        {"arm1", "arm2"},
        [FLOOR_LINE],
    ),
    "seated-twist": (
        seated_front(),
        seated_front(
            head=(104, 47),
            neck=(102, 62),
            shoulder1=(92, 70),
            shoulder2=(114, 68),
            eyes=6,
            elbow1=(94, 92),
            hand1=(108, 112),
            elbow2=(126, 84),
            hand2=(128, 66),
        ),
        {"torso", "neck"},
        [FLOOR_LINE, CHAIR],
    ),  # fmt: skip
    "childs-pose": (
        quadruped(),
        quadruped(
            head=(146, 140),
            neck=(134, 138),
            shoulder=(128, 136),
            hip=(84, 136),
            elbow1=(152, 149),
            hand1=(178, 151),
            elbow2=(150, 148),
            hand2=(176, 150),
        ),
        {"torso", "arm1", "arm2"},
        [FLOOR_LINE],
    ),  # fmt: skip
    "thread-the-needle": (
        quadruped(),
        quadruped(head=(166, 144), neck=(156, 141), shoulder=(150, 138), elbow1=(136, 150), hand1=(114, 152)),
        {"torso", "arm1"},
        [FLOOR_LINE],
    ),
    "knee-to-chest": (
        supine(),
        supine(knee1=(92, 109), foot1=(118, 116), elbow1=(70, 128), hand1=(92, 112)),
        {"leg1", "arm1"},
        [FLOOR_LINE],
    ),
    "lying-twist": (
        top_view(),
        top_view(
            hip1=(112, 79), hip2=(112, 91), knee1=(136, 112), foot1=(156, 104), knee2=(138, 124), foot2=(158, 116)
        ),
        {"leg1", "leg2"},
        [MAT],
    ),  # fmt: skip
    "sphinx-stretch": (
        prone(),
        prone(
            head=(44, 104),
            neck=(54, 116),
            shoulder=(60, 122),
            elbow1=(60, 151),
            hand1=(34, 152),
            elbow2=(58, 150),
            hand2=(32, 151),
        ),
        {"torso"},
        [FLOOR_LINE],
    ),  # fmt: skip
    "figure-four-stretch": (
        supine(knee1=(118, 104), foot1=(136, 118)),
        supine(
            knee2=(104, 106),
            foot2=(128, 113),
            knee1=(84, 96),
            foot1=(104, 106),
            elbow1=(72, 128),
            hand1=(100, 112),
            elbow2=(70, 127),
            hand2=(98, 111),
        ),
        {"leg1"},
        [FLOOR_LINE],
    ),  # fmt: skip
    "towel-hamstring-stretch": (
        supine(
            knee1=(116, 104),
            foot1=(140, 96),
            elbow1=(62, 128),
            hand1=(84, 114),
            knee2=(144, 149),
            foot2=(176, 151),
            towel=((84, 114), (140, 96)),
        ),
        supine(
            knee1=(124, 88),
            foot1=(138, 40),
            elbow1=(62, 126),
            hand1=(86, 108),
            knee2=(144, 149),
            foot2=(176, 151),
            towel=((86, 108), (138, 40)),
        ),
        {"leg1"},
        [FLOOR_LINE],
    ),  # fmt: skip
    "kneeling-hip-flexor-stretch": (
        standing_side(
            head=(100, 44),
            neck=(100, 59),
            shoulder=(100, 66),
            hip=(100, 110),
            elbow1=(112, 88),
            hand1=(130, 112),
            elbow2=(110, 88),
            hand2=(128, 112),
            knee1=(136, 114),
            foot1=(140, 155),
            knee2=(92, 154),
            foot2=(62, 155),
        ),
        standing_side(
            head=(112, 46),
            neck=(112, 61),
            shoulder=(112, 68),
            hip=(114, 114),
            elbow1=(122, 90),
            hand1=(138, 112),
            elbow2=(120, 90),
            hand2=(136, 112),
            knee1=(146, 114),
            foot1=(144, 155),
            knee2=(92, 154),
            foot2=(62, 155),
        ),
        {"leg2", "torso"},
        [FLOOR_LINE],
    ),  # fmt: skip
}


def _line(a, b, colour, width=LIMB):
    return (
        f'<line x1="{a[0]:g}" y1="{a[1]:g}" x2="{b[0]:g}" y2="{b[1]:g}" stroke="{colour}" '
        f'stroke-width="{width}" stroke-linecap="round"/>'
    )


def _poly(points, colour, width=LIMB):
    pts = " ".join(f"{x:g},{y:g}" for x, y in points)
    return (
        f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}" '
        f'stroke-linecap="round" stroke-linejoin="round"/>'
    )


def _props(props):
    out = []
    for kind, arg in props:
        if kind == "line":
            out.append(_line(arg[:2], arg[2:], PROP, 3))
        elif kind == "rect":
            x, y, w, h = arg
            out.append(
                f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="10" fill="none" stroke="{PROP}" stroke-width="3"/>'
            )  # noqa: E501
        elif kind == "chair":
            out.append(_poly([(70, 116), (130, 116)], PROP, 5))
            out.append(_poly([(74, 116), (74, 158)], PROP, 4))
            out.append(_poly([(126, 116), (126, 158)], PROP, 4))
            out.append(_poly([(130, 116), (134, 62)], PROP, 4))
        elif kind == "door":
            out.append(f'<rect x="{arg - 6}" y="8" width="8" height="150" fill="{PROP}"/>')
    return out


def _figure(p, accent):
    colour = {part: (ACCENT if part in accent else INK) for part in ("neck", "torso", "arm1", "arm2", "leg1", "leg2")}
    out = []
    front = "shoulder1" in p
    if front:
        # Facing the reader (or seen from above): both sides are near.
        out.append(_poly([p["shoulder1"], p["shoulder2"]], colour["torso"]))
        out.append(_poly([p["neck"], p["hip"]], colour["torso"]))
        out.append(_poly([p["hip1"], p["hip2"]], colour["torso"]))
        for n in ("1", "2"):
            out.append(_poly([p["hip" + n], p["knee" + n], p["foot" + n]], colour["leg" + n]))
            out.append(_poly([p["shoulder" + n], p["elbow" + n], p["hand" + n]], colour["arm" + n]))
    else:
        far = {"arm2": FAR if "arm2" not in accent else "#7fc3b6", "leg2": FAR if "leg2" not in accent else "#7fc3b6"}
        out.append(_poly([p["hip"], p["knee2"], p["foot2"]], far["leg2"]))
        out.append(_poly([p["shoulder"], p["elbow2"], p["hand2"]], far["arm2"]))
        out.append(_poly([p["neck"], p["shoulder"], p["hip"]], colour["torso"]))
        out.append(_poly([p["hip"], p["knee1"], p["foot1"]], colour["leg1"]))
    out.append(_line(p["neck"], _toward(p["neck"], p["head"], HEAD_R), colour["neck"]))
    hx, hy = p["head"]
    out.append(f'<circle cx="{hx:g}" cy="{hy:g}" r="{HEAD_R}" fill="#fff" stroke="{colour["neck"]}" stroke-width="5"/>')
    if front and "eyes" in p and "top" not in p:
        shift = p["eyes"]
        for ex in (-4, 4):
            out.append(f'<circle cx="{hx + ex + shift:g}" cy="{hy - 1:g}" r="1.6" fill="{INK}"/>')
    if not front:
        out.append(_poly([p["shoulder"], p["elbow1"], p["hand1"]], colour["arm1"]))
    if "towel" in p:
        a, b = p["towel"]
        out.append(
            f'<line x1="{a[0]:g}" y1="{a[1]:g}" x2="{b[0]:g}" y2="{b[1]:g}" stroke="#c0841a" stroke-width="3" '
            'stroke-dasharray="6 4" stroke-linecap="round"/>'
        )
    return out


def _toward(a, b, r):
    """The point on the head's circle, seen from the neck."""
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    d = (dx * dx + dy * dy) ** 0.5 or 1
    return (bx - dx / d * r, by - dy / d * r)


def svg(slug: str) -> str:
    start, held, accent, props = POSES[slug]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {2 * W + 40} {H}" width="{2 * W + 40}" height="{H}">',
        '<rect width="100%" height="100%" fill="#fff"/>',
        "<g>",
        *_props(props),
        *_figure(start, accent),
        "</g>",
        # The arrow from the start to the hold.
        f'<g transform="translate({W},0)">',
        _line((8, 85), (30, 85), ACCENT, 4),
        f'<polyline points="22,77 31,85 22,93" fill="none" stroke="{ACCENT}" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>',  # noqa: E501
        "</g>",
        f'<g transform="translate({W + 40},0)">',
        *_props(props),
        *_figure(held, accent),
        "</g>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for slug in POSES:
        (OUT / f"{slug}.svg").write_text(svg(slug))
    print(f"wrote {len(POSES)} illustrations to {OUT}")


if __name__ == "__main__":
    main()
