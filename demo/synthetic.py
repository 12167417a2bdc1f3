"""A synthetic but plausible Binhai registry: units, bodies, power list, officers, devices
and targets. Pure generation (numpy, shapely), no database; deterministic for a seed, except the
devices' secrets (终端ID, keys), drawn from `secrets`."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.places.credit_code import make_codes

# Regions of the district by township code, used for department areas and density.
TANGGU = [
    "120116001",
    "120116005",
    "120116006",
    "120116007",
    "120116008",
    "120116009",
    "120116011",
    "120116012",
    "120116013",
    "120116014",
    "120116100",
    "120116400",
    "120116401",
    "120116402",
    "120116403",
    "120116406",
]
HANGU = ["120116031", "120116032", "120116033", "120116135"]
DAGANG = ["120116051", "120116053", "120116054", "120116156", "120116157", "120116158"]
ALL = TANGGU + HANGU + DAGANG

# (name, domains, area, weight of officers): 29 departments + 26 town teams = 55 units.
DEPARTMENTS = [
    ("滨海新区市场监管综合行政执法支队", ["market_regulation"], ALL, 3.0),
    ("塘沽市场监管执法大队", ["market_regulation"], TANGGU, 2.0),
    ("汉沽市场监管执法大队", ["market_regulation"], HANGU, 1.0),
    ("大港市场监管执法大队", ["market_regulation"], DAGANG, 1.2),
    ("开发区市场监管执法大队", ["market_regulation"], ["120116014", "120116400", "120116402"], 1.0),
    ("保税区市场监管执法大队", ["market_regulation"], ["120116401", "120116403"], 0.8),
    ("滨海新区生态环境保护综合行政执法支队", ["ecology_environment"], ALL, 1.5),
    ("汉沽生态环境执法大队", ["ecology_environment"], HANGU, 0.6),
    ("大港生态环境执法大队", ["ecology_environment"], DAGANG, 0.8),
    ("滨海新区文化市场综合行政执法支队", ["cultural_market"], ALL, 1.0),
    ("大港文化市场执法大队", ["cultural_market"], DAGANG, 0.4),
    ("滨海新区交通运输综合行政执法支队", ["transport"], ALL, 1.5),
    ("港口运输执法大队", ["transport"], ["120116012", "120116401", "120116403"], 0.7),
    ("路政执法大队", ["transport"], ALL, 0.7),
    ("滨海新区农业综合行政执法支队", ["agriculture"], ALL, 0.8),
    ("渔政执法大队", ["agriculture"], ["120116009", "120116031", "120116054", "120116406"], 0.4),
    ("滨海新区应急管理综合行政执法支队", ["emergency_management"], ALL, 1.5),
    ("危险化学品安全执法大队", ["emergency_management"], ALL, 0.8),
    ("工贸安全执法大队", ["emergency_management"], ALL, 0.6),
    ("滨海新区城市管理综合行政执法支队", ["urban_management"], ALL, 1.5),
    ("塘沽城管执法大队", ["urban_management"], TANGGU, 1.0),
    ("汉沽城管执法大队", ["urban_management"], HANGU, 0.5),
    ("大港城管执法大队", ["urban_management"], DAGANG, 0.6),
    ("滨海新区卫生健康委员会卫生监督所", ["health"], ALL, 1.0),
    ("医疗卫生执法大队", ["health"], TANGGU, 0.5),
    ("滨海新区规划和自然资源执法支队", ["natural_resources"], ALL, 0.8),
    ("海洋执法大队", ["natural_resources"], ["120116009", "120116012", "120116031", "120116054"], 0.4),
    ("滨海新区水政监察大队", ["water"], ALL, 0.6),
    ("水资源执法中队", ["water"], ALL, 0.3),
]
TOWN_TEAM_WEIGHT = 0.9
TOWN_TEAM_DOMAINS = ["street_town_comprehensive", "urban_management"]

# Power-list items per domain: (inspection item, power type, legal basis).
ITEMS = {
    "market_regulation": [
        ("食品经营许可及经营行为检查", "inspection", "《中华人民共和国食品安全法》第一百一十条"),
        ("特种设备使用单位监督检查", "inspection", "《中华人民共和国特种设备安全法》第五十七条"),
        ("产品质量监督抽查", "inspection", "《中华人民共和国产品质量法》第十五条"),
        ("价格违法行为处罚", "penalty", "《中华人民共和国价格法》第三十九条"),
        ("无证从事食品经营处罚", "penalty", "《中华人民共和国食品安全法》第一百二十二条"),
        ("无照经营处罚", "penalty", "《中华人民共和国市场主体登记管理条例》第四十三条"),
    ],
    "ecology_environment": [
        ("排污许可执行情况检查", "inspection", "《排污许可管理条例》第二十七条"),
        ("建设项目环境保护设施检查", "inspection", "《建设项目环境保护管理条例》第十九条"),
        ("超标排放污染物处罚", "penalty", "《中华人民共和国大气污染防治法》第九十九条"),
    ],
    "cultural_market": [
        ("娱乐场所经营活动检查", "inspection", "《娱乐场所管理条例》第三十二条"),
        ("网吧接纳未成年人检查", "inspection", "《互联网上网服务营业场所管理条例》第二十一条"),
        ("出版物经营违法行为处罚", "penalty", "《出版管理条例》第六十一条"),
    ],
    "transport": [
        ("道路运输经营者检查", "inspection", "《中华人民共和国道路运输条例》第五十九条"),
        ("港口危险货物作业检查", "inspection", "《中华人民共和国港口法》第三十五条"),
        ("超限运输处罚", "penalty", "《公路安全保护条例》第六十四条"),
    ],
    "agriculture": [
        ("农药经营使用检查", "inspection", "《农药管理条例》第四十一条"),
        ("兽药经营检查", "inspection", "《兽药管理条例》第四十五条"),
        ("违法捕捞处罚", "penalty", "《中华人民共和国渔业法》第三十八条"),
    ],
    "emergency_management": [
        ("生产经营单位安全生产检查", "inspection", "《中华人民共和国安全生产法》第六十五条"),
        ("危险化学品企业检查", "inspection", "《危险化学品安全管理条例》第七条"),
        ("安全生产违法行为处罚", "penalty", "《中华人民共和国安全生产法》第九十七条"),
    ],
    "urban_management": [
        ("市容环境卫生检查", "inspection", "《城市市容和环境卫生管理条例》第三十六条"),
        ("违法建设查处", "penalty", "《中华人民共和国城乡规划法》第六十四条"),
        ("户外广告设置检查", "inspection", "《天津市市容和环境卫生管理条例》第二十条"),
    ],
    "health": [
        ("公共场所卫生检查", "inspection", "《公共场所卫生管理条例》第十条"),
        ("医疗机构执业检查", "inspection", "《医疗机构管理条例》第四十条"),
        ("非法行医处罚", "penalty", "《中华人民共和国基本医疗卫生与健康促进法》第九十九条"),
    ],
    "natural_resources": [
        ("土地利用动态巡查", "inspection", "《中华人民共和国土地管理法》第六十七条"),
        ("非法占用土地处罚", "penalty", "《中华人民共和国土地管理法》第七十七条"),
    ],
    "water": [
        ("取水许可检查", "inspection", "《取水许可和水资源费征收管理条例》第四十五条"),
        ("河道管理范围内建设检查", "inspection", "《中华人民共和国河道管理条例》第十一条"),
    ],
    "street_town_comprehensive": [
        ("街面秩序巡查", "inspection", "《天津市街道综合执法暂行办法》第七条"),
        ("占道经营处罚", "penalty", "《天津市市容和环境卫生管理条例》第六十三条"),
    ],
}

# Density model: (lon, lat, sigma in degrees, weight) clusters over the dense centres.
CLUSTERS = [
    (117.660, 39.020, 0.020, 0.30),  # Tanggu centre
    (117.710, 39.045, 0.015, 0.14),  # TEDA
    (117.800, 39.255, 0.020, 0.10),  # Hangu
    (117.470, 38.845, 0.025, 0.12),  # Dagang
    (117.600, 39.040, 0.025, 0.06),  # Xinhe / high-tech zone
    (117.735, 39.125, 0.015, 0.04),  # Eco-city
]
UNIFORM_SHARE = 1.0 - sum(c[3] for c in CLUSTERS)

# Domain mix of targets: weights per domain; a second domain now and then.
TARGET_DOMAIN_WEIGHTS = {
    "market_regulation": 0.42,
    "health": 0.09,
    "emergency_management": 0.09,
    "urban_management": 0.08,
    "street_town_comprehensive": 0.07,
    "transport": 0.06,
    "ecology_environment": 0.06,
    "cultural_market": 0.05,
    "agriculture": 0.04,
    "natural_resources": 0.02,
    "water": 0.02,
}
RISK_WEIGHTS = (0.50, 0.30, 0.15, 0.05)

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍建国志红文斌宇浩凯健俊帆鹏辉")
TRADE_WORDS = list("海港泰达渤新华滨津盛鑫恒瑞通宏远晟隆源祥和丰安顺达兴德利嘉")
INDUSTRIES = [
    "商贸",
    "餐饮",
    "物流",
    "化工",
    "科技",
    "建材",
    "医药",
    "文化传媒",
    "机械",
    "食品",
    "酒店管理",
    "汽车服务",
    "水产",
    "装饰工程",
    "超市",
    "网络科技",
]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "商行", "经营部"]
SITE_KINDS = ["建筑工地", "加油站", "农贸市场", "渔港码头", "养殖场", "仓储堆场", "危化品储罐区", "河道排口"]
ROADS = [
    "新港路",
    "津塘公路",
    "解放路",
    "中心大道",
    "第三大街",
    "黄海路",
    "汉北路",
    "世纪大道",
    "港城大道",
    "胜利路",
    "东海路",
    "海河路",
    "西环路",
    "南海路",
    "北塘路",
    "大港路",
]


@dataclass
class Organisation:
    units: list[dict] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)
    unit_areas: list[tuple[int, str]] = field(default_factory=list)
    power_items: list[dict] = field(default_factory=list)


def build_organisation(townships: dict[str, str], rng: np.random.Generator) -> Organisation:
    """55 units and 92 bodies: every unit acts through its own organ, every department and
    eight town teams also through a commissioned or authorised organisation."""
    org = Organisation()
    specs: list[tuple[str, list[str], list[str], float, str, str | None]] = [
        (name, doms, area, w, "department", None) for name, doms, area, w in DEPARTMENTS
    ]
    specs += [
        (f"{tname}综合执法大队", TOWN_TEAM_DOMAINS, [code], TOWN_TEAM_WEIGHT, "town_team", code)
        for code, tname in sorted(townships.items())
    ]
    extra_town_bodies = set(rng.choice(len(townships), size=8, replace=False).tolist())
    for idx, (name, doms, area, weight, kind, town) in enumerate(specs, start=1):
        org.units.append(
            dict(id=idx, code=f"U{idx:03d}", name=name, kind=kind, township_code=town, domains=doms, weight=weight)
        )
        org.unit_areas += [(idx, code) for code in area if code in townships]
        organ = f"天津市滨海新区{townships[town]}" if town else name.replace("综合行政执法支队", "局")
        org.bodies.append(dict(code=f"B{idx:03d}A", name=organ + ("办事处" if town else ""), kind="organ", unit_id=idx))
        if kind == "department" or (idx - len(DEPARTMENTS) - 1) in extra_town_bodies:
            extra_kind = "commissioned" if idx % 3 else "authorised"
            org.bodies.append(
                dict(
                    code=f"B{idx:03d}B",
                    name=f"{name}（{'受委托组织' if extra_kind == 'commissioned' else '法律法规授权组织'}）",
                    kind=extra_kind,
                    unit_id=idx,
                )
            )
        for dom in doms:
            for n, (item, ptype, basis) in enumerate(ITEMS[dom], start=1):
                org.power_items.append(
                    dict(
                        unit_id=idx,
                        domain_key=dom,
                        power_type_key=ptype,
                        item_code=f"{dom}.{n:02d}",
                        item_name=item,
                        legal_basis=basis,
                    )
                )
    return org


def build_officers(org: Organisation, n: int, rng: np.random.Generator, today: dt.date) -> list[dict]:
    weights = np.array([u["weight"] for u in org.units], dtype=float)
    unit_idx = rng.choice(len(org.units), size=n, p=weights / weights.sum())
    areas: dict[int, list[str]] = {}
    for unit_id, code in org.unit_areas:
        areas.setdefault(unit_id, []).append(code)
    bodies: dict[int, list[int]] = {}
    for body_id, body in enumerate(org.bodies, start=1):
        bodies.setdefault(body["unit_id"], []).append(body_id)
    officers = []
    for i in range(n):
        unit = org.units[unit_idx[i]]
        area = areas[unit["id"]]
        k = min(len(area), int(rng.integers(1, 5)))
        assigned = sorted(rng.choice(area, size=k, replace=False).tolist())
        start = today - dt.timedelta(days=int(rng.integers(60, 1500)))
        expired = rng.random() < 0.03
        end = (
            today - dt.timedelta(days=int(rng.integers(1, 200)))
            if expired
            else today + dt.timedelta(days=int(rng.integers(30, 1500)))
        )
        name = SURNAMES[rng.integers(len(SURNAMES))] + "".join(
            GIVEN[j] for j in rng.integers(len(GIVEN), size=int(rng.integers(1, 3)))
        )
        officers.append(
            dict(
                id=i + 1,
                cert_no=f"12011600{i + 1:06d}",
                name=name,
                unit_id=unit["id"],
                body_id=int(rng.choice(bodies[unit["id"]])),
                cert_valid_from=start,
                cert_valid_to=max(end, start),
                duty_state="on_duty" if rng.random() < 0.6 else "off_duty",
                daily_task_cap=8,
                phone=f"13{rng.integers(0, 10**9):09d}",
                townships=assigned,
            )
        )
    return officers


def build_devices(officers: list[dict]) -> list[dict]:
    """Two per officer: a phone running Traccar Client (OsmAnd) with its own secret key, and a
    body camera on JT/T 808 with its own random 终端ID (never derived from its number: a
    registration names it, so guessing it must not be possible)."""
    devices = []
    for o in officers:
        devices.append(
            dict(
                kind="terminal",
                protocol="osmand",
                identifier=f"{800000 + o['id']}",
                officer_id=o["id"],
                device_key=secrets.token_urlsafe(18),
                terminal_id=None,
            )
        )
        devices.append(
            dict(
                kind="body_camera",
                protocol="jt808",
                identifier=f"0138{o['id']:08d}",
                officer_id=o["id"],
                device_key=None,
                terminal_id=secrets.token_hex(4)[:7].upper(),
            )
        )
    return devices


def sample_points(outline: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points inside the outline: clustered on the urban centres, the rest spread out."""
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    weights = np.array([c[3] for c in CLUSTERS] + [UNIFORM_SHARE])
    out = np.empty((0, 2))
    while len(out) < n:
        m = int((n - len(out)) * 1.3) + 64
        comp = rng.choice(len(weights), size=m, p=weights / weights.sum())
        pts = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        clustered = comp < len(CLUSTERS)
        centres = np.array([c[:2] for c in CLUSTERS])[comp[clustered]]
        sigmas = np.array([c[2] for c in CLUSTERS])[comp[clustered]]
        pts[clustered] = centres + rng.normal(size=(clustered.sum(), 2)) * sigmas[:, None]
        inside = shapely.contains_xy(outline, pts[:, 0], pts[:, 1])
        out = np.vstack([out, pts[inside]])
    return np.round(out[:n], 6)


def assign_townships(points: np.ndarray, codes: list[str], polygons: list[BaseGeometry]) -> np.ndarray:
    """Township code for each point by a vectorised point-in-polygon join (None outside)."""
    tree = shapely.STRtree(polygons)
    pt_idx, poly_idx = tree.query(shapely.points(points), predicate="intersects")
    result = np.full(len(points), None, dtype=object)
    # Reverse order so the first (lowest-index) polygon wins on shared edges.
    result[pt_idx[::-1]] = np.asarray(codes, dtype=object)[poly_idx[::-1]]
    return result


def target_chunks(
    outline: BaseGeometry,
    township_codes: list[str],
    township_polygons: list,
    township_names: dict[str, str],
    n: int,
    seed: int,
    chunk: int = 100_000,
    start_serial: int = 0,
):
    """Yield (row_count, COPY text) chunks of n targets in TARGET_COPY_COLUMNS order."""
    domain_keys = list(TARGET_DOMAIN_WEIGHTS)
    domain_p = np.array(list(TARGET_DOMAIN_WEIGHTS.values()))
    domain_p /= domain_p.sum()
    for offset in range(0, n, chunk):
        m = min(chunk, n - offset)
        rng = np.random.default_rng([seed, offset])
        pts = sample_points(outline, m, rng)
        towns = assign_townships(pts, township_codes, township_polygons)
        serial = np.arange(start_serial + offset, start_serial + offset + m, dtype=np.int64)
        # Scramble serials so neighbouring rows do not get neighbouring codes.
        codes = make_codes((serial * 7_368_787 + 1_234_567) % (31**9))
        is_site = rng.random(m) < 0.08
        d1 = rng.choice(len(domain_keys), size=m, p=domain_p)
        d2 = rng.choice(len(domain_keys), size=m, p=domain_p)
        second = (rng.random(m) < 0.2) & (d1 != d2)
        risk = rng.choice(4, size=m, p=RISK_WEIGHTS) + 1
        w1 = rng.integers(len(TRADE_WORDS), size=m)
        w2 = rng.integers(len(TRADE_WORDS), size=m)
        ind = rng.integers(len(INDUSTRIES), size=m)
        suf = rng.integers(len(SUFFIXES), size=m)
        road = rng.integers(len(ROADS), size=m)
        number = rng.integers(1, 999, size=m)
        lines = []
        for i in range(m):
            town = towns[i]
            tname = township_names.get(town, "滨海新区") if town else "滨海新区"
            doms = domain_keys[d1[i]] + ("," + domain_keys[d2[i]] if second[i] else "")
            if is_site[i]:
                key = f"SITE-{serial[i]:08d}"
                credit = r"\N"
                name = f"{tname}{TRADE_WORDS[w1[i]]}{TRADE_WORDS[w2[i]]}{SITE_KINDS[ind[i] % len(SITE_KINDS)]}"
                kind = "site"
            else:
                key = credit = codes[i]
                name = f"天津滨海{TRADE_WORDS[w1[i]]}{TRADE_WORDS[w2[i]]}{INDUSTRIES[ind[i]]}{SUFFIXES[suf[i]]}"
                kind = "entity"
            lines.append(
                f"{key}\t{credit}\t{name}\t{kind}\t{{{doms}}}\t{risk[i]}\t"
                f"{tname}{ROADS[road[i]]}{number[i]}号\t{town or chr(92) + 'N'}\t"
                f"SRID=4326;POINT({pts[i, 0]} {pts[i, 1]})\n"
            )
        yield m, "".join(lines)
