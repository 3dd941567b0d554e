#!/usr/bin/env python3
"""Expected tiling decisions for DynamicTilerTest, computed with InternVL's own algorithm.

find_closest_aspect_ratio and the grid/box part of dynamic_preprocess are transcribed from
InternVL (internvl_chat/internvl/train/dataset.py, also shipped in NVLM-D-72B's modeling code),
minus the PIL resize/crop (only the decisions are pinned here; pixels are tested elsewhere).

One deliberate change: InternVL builds target_ratios from a Python set and then sorts it by i*j,
so the order of grids with the same product is the set's iteration order (CPython: e.g.
(3,1) before (1,3), (4,1), (1,4), (2,2)). docs/model.md §1 fixes the order: i*j ascending,
then i ascending. `spec_order` below is that order; `internvl_set_order` is InternVL's. The
table uses spec_order, and main() also checks, over a sweep of sizes and max_num 1..12, where the
two orders give different grids (a tie can only be decided by order between two grids of the same
product, and those ratios i/j never sit next to each other, so no difference is expected).

Run: python3 internvl_tiling.py > internvl_tiling_cases.tsv
"""
import sys


def find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size):
    # Verbatim InternVL.
    best_ratio_diff = float('inf')
    best_ratio = (1, 1)
    area = width * height
    for ratio in target_ratios:
        target_aspect_ratio = ratio[0] / ratio[1]
        ratio_diff = abs(aspect_ratio - target_aspect_ratio)
        if ratio_diff < best_ratio_diff:
            best_ratio_diff = ratio_diff
            best_ratio = ratio
        elif ratio_diff == best_ratio_diff:
            if area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
                best_ratio = ratio
    return best_ratio


def internvl_set_order(min_num, max_num):
    # Verbatim InternVL: a set, then a stable sort by product.
    target_ratios = set(
        (i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1) if
        i * j <= max_num and i * j >= min_num)
    return sorted(target_ratios, key=lambda x: x[0] * x[1])


def spec_order(min_num, max_num):
    # docs/model.md §1: by i*j, then by i.
    grids = [(i, j) for i in range(1, max_num + 1) for j in range(1, max_num + 1)
             if min_num <= i * j <= max_num]
    return sorted(grids, key=lambda x: (x[0] * x[1], x[0]))


def dynamic_preprocess_plan(width, height, min_num, max_num, image_size, use_thumbnail, order=spec_order):
    """dynamic_preprocess without the pixels: the grid, the crop boxes (in the resized image,
    in output order) and whether a thumbnail is appended."""
    aspect_ratio = width / height
    target_ratios = order(min_num, max_num)
    target_aspect_ratio = find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size)
    target_width = image_size * target_aspect_ratio[0]
    target_height = image_size * target_aspect_ratio[1]
    blocks = target_aspect_ratio[0] * target_aspect_ratio[1]
    boxes = []
    for i in range(blocks):
        box = (
            (i % (target_width // image_size)) * image_size,
            (i // (target_width // image_size)) * image_size,
            ((i % (target_width // image_size)) + 1) * image_size,
            ((i // (target_width // image_size)) + 1) * image_size
        )
        boxes.append(box)
    thumbnail = use_thumbnail and len(boxes) != 1
    return target_aspect_ratio, boxes, thumbnail


CASES = [
    # (width, height, tile_size, min_tiles, max_tiles, use_thumbnail, why)
    (448, 448, 448, 1, 6, True, "one tile exactly; (2,2) ties at diff 0 but area <= 2*S*S"),
    (633, 633, 448, 1, 6, True, "square tie (1,1)/(2,2), area 400689 below 2*S*S=401408"),
    (634, 634, 448, 1, 6, True, "square tie, area 401956 above 2*S*S: (2,2) wins"),
    (896, 896, 448, 1, 6, True, "square, large: (2,2)"),
    (1250, 1000, 448, 1, 6, True, "aspect 1.25: exact tie of (1,1), (2,2), (3,2); large area takes the last"),
    (125, 100, 448, 1, 6, True, "aspect 1.25, small: stays (1,1)"),
    (700, 560, 448, 1, 6, True, "aspect 1.25, area 392000: (2,2)/(3,2) thresholds not met"),
    (710, 568, 448, 1, 6, True, "aspect 1.25, area 403280: (2,2) taken, (3,2) not"),
    (1000, 400, 448, 1, 6, True, "aspect 2.5: tie (2,1)/(3,1), area above 1.5*S*S: (3,1)"),
    (500, 200, 448, 1, 6, True, "aspect 2.5, small: (2,1)"),
    (400, 1000, 448, 1, 6, True, "aspect 0.4: 1/3 is nearer than 1/2 (mirror of 2.5 is not a tie)"),
    (200, 500, 448, 1, 6, True, "aspect 0.4, small: still (1,3), upscaled"),
    (500, 600, 448, 1, 6, True, "aspect 5/6: midpoint of 2/3 and 1, but in doubles |a-1| is smaller: no tie"),
    (1000, 1200, 448, 1, 6, True, "aspect 5/6, large: (2,2) ties (1,1) at ratio 1"),
    (1, 4000, 448, 1, 6, True, "extreme tall"),
    (4000, 1, 448, 1, 6, True, "extreme wide"),
    (1, 1, 448, 1, 6, True, "one pixel"),
    (2, 2, 448, 1, 6, True, "tiny square"),
    (300, 200, 448, 1, 6, True, "smaller than one tile, aspect 1.5 -> (3,2) exact"),
    (100, 100, 448, 1, 6, True, "smaller than one tile, square"),
    (447, 447, 448, 1, 6, True, "just under one tile"),
    (10, 448, 448, 1, 6, True, "thin column"),
    (448, 10, 448, 1, 6, True, "thin row"),
    (100, 50, 448, 1, 6, True, "small 2:1"),
    (1920, 1080, 448, 1, 6, True, "full HD"),
    (1080, 1920, 448, 1, 6, True, "full HD portrait"),
    (800, 600, 448, 1, 6, True, "4:3"),
    (1024, 768, 448, 1, 6, True, "4:3 larger"),
    (640, 480, 448, 1, 6, True, "VGA"),
    (4000, 3000, 448, 1, 6, True, "12 MP photo"),
    (3000, 1000, 448, 1, 6, True, "3:1"),
    (2480, 3508, 448, 1, 6, True, "A4 scan at 300 dpi"),
    (1792, 448, 448, 1, 6, True, "exactly 4 tiles wide"),
    (2688, 448, 448, 1, 6, True, "exactly 6 tiles wide"),
    (5000, 448, 448, 1, 6, True, "wider than 6 tiles"),
    (1344, 896, 448, 1, 6, True, "exactly 3x2"),
    (1920, 1080, 448, 1, 6, False, "no thumbnail"),
    (1920, 1080, 448, 1, 12, True, "max 12 (InternVL default)"),
    (1250, 1000, 448, 1, 12, True, "aspect 1.25 with max 12: (4,3) at 1.333 is nearest"),
    (4000, 1, 448, 1, 12, True, "extreme wide, max 12"),
    (1920, 1080, 448, 1, 1, True, "max 1: low-resolution mode"),
    (1920, 1080, 448, 2, 6, True, "min 2: (1,1) not a candidate"),
    (448, 448, 448, 2, 6, True, "min 2 with a square: (2,2) beats the initial best_diff=inf"),
    (300, 150, 112, 1, 6, True, "tiny preset tile 112"),
    (150, 300, 112, 1, 6, True, "tiny preset tile 112, portrait"),
    (120, 96, 112, 1, 6, True, "tile 112, aspect 1.25, area 11520 < 2*S*S"),
    (250, 200, 112, 1, 6, True, "tile 112, aspect 1.25, area 50000 > 3*S*S=37632"),
    (224, 224, 224, 1, 6, True, "small preset tile 224"),
    (640, 320, 224, 1, 6, True, "small preset, 2:1"),
]


def main():
    out = sys.stdout
    out.write("# Generated by internvl_tiling.py (InternVL's find_closest_aspect_ratio/dynamic_preprocess,\n")
    out.write("# candidate grids in docs/model.md §1 order). Boxes are crop boxes x0,y0,x1,y1 in the\n")
    out.write("# image resized to (S*cols, S*rows), in output order; the thumbnail (if any) follows them.\n")
    differences = order_differences()
    out.write("# spec order vs InternVL set order: %d differing decisions over the sweep in order_differences()\n"
              % len(differences))
    for d in differences[:20]:
        out.write("#   differs: %s\n" % (d,))
    out.write("width\theight\ttile_size\tmin_tiles\tmax_tiles\tuse_thumbnail\tcols\trows\ttiles\tthumbnail\tboxes\twhy\n")
    for (w, h, s, mn, mx, thumb, why) in CASES:
        (cols, rows), boxes, thumbnail = dynamic_preprocess_plan(w, h, mn, mx, s, thumb)
        tiles = len(boxes) + (1 if thumbnail else 0)
        box_text = ";".join(",".join(str(v) for v in b) for b in boxes)
        out.write("%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n" % (
            w, h, s, mn, mx, str(thumb).lower(), cols, rows, tiles, str(thumbnail).lower(), box_text, why))


def order_differences():
    """Sizes where InternVL's set order and the order of docs/model.md §1 pick different grids."""
    sizes = sorted(set(list(range(1, 64)) + list(range(64, 3000, 41)) + [448 * k for k in range(1, 13)]
                       + [224 * k for k in range(1, 25)]))
    found = []
    for mx in range(1, 13):
        for mn in (1, 2):
            if mn > mx:
                continue
            for w in sizes:
                for h in sizes:
                    a = dynamic_preprocess_plan(w, h, mn, mx, 448, True, spec_order)[0]
                    b = dynamic_preprocess_plan(w, h, mn, mx, 448, True, internvl_set_order)[0]
                    if a != b:
                        found.append((w, h, mn, mx, a, b))
    return found


if __name__ == "__main__":
    main()
