"""Registry imports: good rows load, bad rows are reported with line numbers and reasons."""

import csv

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from geo.places.credit_code import check_character
from geo.places.gcj02 import wgs84_to_gcj02
from ingest.registry.devices import import_devices
from ingest.registry.officers import import_officers
from ingest.registry.targets import import_targets
from ingest.registry.townships import import_townships
from ingest.tables import ImportFileError


def code(serial: int) -> str:
    first17 = f"91120116{serial:09d}"
    return first17 + check_character(first17)


TANGGU = (117.668, 39.013)  # 塘沽街道 centre
DAGANG = (117.489, 38.857)  # 古林街道 centre


def read_rejects(path):
    with open(path, encoding="utf-8") as f:
        return {int(r["line"]): r["reason"] for r in csv.DictReader(f)}


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_csv_import_loads_good_rows_and_reports_bad_ones(session, tmp_path):
    path = write_csv(
        tmp_path / "targets.csv",
        ["统一社会信用代码", "名称", "执法领域", "风险等级", "地址", "经度", "纬度"],
        [
            [code(1), "天津滨海测试餐饮有限公司", "市场监管综合行政执法", "高", "塘沽新港路1号", *TANGGU],  # line 2
            [
                code(2)[:-1] + "0" if code(2)[-1] != "0" else code(2)[:-1] + "1",
                "坏码公司",
                "health",
                "1",
                "",
                *TANGGU,
            ],  # 3
            [code(3), "域外公司", "health", "1", "", 116.40, 39.90],  # line 4: Beijing
            [code(4), "未知领域公司", "fishing", "1", "", *TANGGU],  # line 5
            [code(5), "古林药店", "health;market_regulation", "2", "", *DAGANG],  # line 6
            [code(1), "重复公司", "health", "1", "", *TANGGU],  # line 7: duplicate of line 2
            [code(6), "坐标缺失公司", "health", "1", "", "abc", ""],  # line 8
        ],
    )
    report = import_targets(session, path)
    assert report.loaded == 2 and report.inserted == 2
    rejects = read_rejects(report.reject_file)
    assert set(rejects) == {3, 4, 5, 7, 8}
    assert "check character" in rejects[3]
    assert "outside Binhai" in rejects[4]
    assert "unknown domain 'fishing'" in rejects[5]
    assert "first on line 2" in rejects[7]
    assert "numbers" in rejects[8]
    rows = dict(
        session.execute(
            text("SELECT key, township_code FROM target WHERE key IN (:a, :b)"), {"a": code(1), "b": code(5)}
        ).all()
    )
    assert rows == {code(1): "120116001", code(5): "120116053"}
    domains = session.execute(text("SELECT domains FROM target WHERE key = :k"), {"k": code(5)}).scalar()
    assert domains == ["health", "market_regulation"]
    assert "2 loaded" in report.summary() and "5 rejected" in report.summary()


def test_reimport_is_an_idempotent_upsert(session, tmp_path):
    path = write_csv(
        tmp_path / "t.csv", ["credit_code", "name", "domains", "lon", "lat"], [[code(10), "甲公司", "health", *TANGGU]]
    )
    assert import_targets(session, path).inserted == 1
    write_csv(path, ["credit_code", "name", "domains", "lon", "lat"], [[code(10), "甲公司（更名）", "health", *DAGANG]])
    report = import_targets(session, path)
    assert (report.inserted, report.updated) == (0, 1)
    name, town = session.execute(text("SELECT name, township_code FROM target WHERE key = :k"), {"k": code(10)}).one()
    assert name == "甲公司（更名）" and town == "120116053"  # re-joined at its new place


def test_xlsx_with_column_mapping_and_sites(session, tmp_path):
    path = tmp_path / "sites.xlsx"
    pd.DataFrame(
        {
            "编号X": ["A-1", "A-2"],
            "场所名称": ["加油站一", "工地二"],
            "类型": ["场所", "场所"],
            "执法领域": ["emergency_management", "urban_management"],
            "风险等级": [4, 9],
            "经度": [TANGGU[0], TANGGU[0]],
            "纬度": [TANGGU[1], TANGGU[1]],
        }
    ).to_excel(path, index=False)
    report = import_targets(session, path, mapping={"编号X": "site_code"})
    assert report.loaded == 1
    assert read_rejects(report.reject_file) == {3: "risk level 9 is not 1-4 (低/中/高/极高)"}
    kind, credit = session.execute(text("SELECT kind, credit_code FROM target WHERE key = 'SITE-A-1'")).one()
    assert (kind, credit) == ("site", None)


def test_geopackage_in_a_projected_crs_is_reprojected(session, tmp_path):
    gdf = gpd.GeoDataFrame(
        {"credit_code": [code(20)], "name": ["投影公司"], "domains": ["transport"]},
        geometry=[shapely.Point(*DAGANG)],
        crs=4326,
    ).to_crs(32650)
    path = tmp_path / "targets.gpkg"
    gdf.to_file(path)
    report = import_targets(session, path)
    assert report.loaded == 1, report.rejects
    lon, lat, town = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom), township_code FROM target WHERE key = :k"), {"k": code(20)}
    ).one()
    assert abs(lon - DAGANG[0]) < 1e-6 and abs(lat - DAGANG[1]) < 1e-6
    assert town == "120116053"


def test_geojson_in_gcj02_is_converted_to_wgs84(session, tmp_path):
    glon, glat = wgs84_to_gcj02(*TANGGU)
    gdf = gpd.GeoDataFrame(
        {"credit_code": [code(30)], "name": ["火星坐标公司"], "domains": ["health"]},
        geometry=[shapely.Point(float(glon), float(glat))],
        crs=4326,
    )
    path = tmp_path / "gcj.geojson"
    gdf.to_file(path, driver="GeoJSON")
    assert import_targets(session, path, gcj02=True).loaded == 1
    lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM target WHERE key = :k"), {"k": code(30)}).one()
    assert abs(lon - TANGGU[0]) < 1e-6 and abs(lat - TANGGU[1]) < 1e-6


def test_unreadable_files_are_refused_whole(session, tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        import_targets(session, tmp_path / "missing.csv")
    bad = tmp_path / "x.doc"
    bad.write_text("hello")
    with pytest.raises(ImportFileError, match="unsupported file type"):
        import_targets(session, bad)
    nocoords = write_csv(tmp_path / "n.csv", ["credit_code", "name"], [[code(1), "x"]])
    with pytest.raises(ImportFileError, match="longitude"):
        import_targets(session, nocoords)


def test_officers_import(session, tmp_path):
    unit = session.execute(
        text(
            "SELECT u.code, min(a.township_code) FROM enforcement_unit u JOIN unit_area a ON a.unit_id = u.id "
            "WHERE u.kind = 'town_team' GROUP BY u.code ORDER BY u.code LIMIT 1"
        )
    ).one()
    other_town = session.execute(
        text("SELECT code FROM township WHERE code <> :c ORDER BY code LIMIT 1"), {"c": unit[1]}
    ).scalar()
    path = write_csv(
        tmp_path / "officers.csv",
        ["执法证号", "姓名", "执法单位", "发证日期", "有效期至", "负责区域", "在岗状态"],
        [
            ["T0001", "张三", unit[0], "2024-01-01", "2029-01-01", unit[1], "在岗"],  # 2 good
            ["T0002", "李四", "U999", "2024-01-01", "2029-01-01", unit[1], "在岗"],  # 3 unknown unit
            ["T0003", "王五", unit[0], "2024-01-01", "2020-01-01", unit[1], "在岗"],  # 4 dates
            ["T0004", "赵六", unit[0], "2024-01-01", "2029-01-01", other_town, "在岗"],  # 5 outside area
            ["T0005", "钱七", unit[0], "2024/01/01", "2029/01/01", unit[1], "休息"],  # 6 good
        ],
    )
    report = import_officers(session, path)
    assert report.loaded == 2
    rejects = read_rejects(report.reject_file)
    assert set(rejects) == {3, 4, 5}
    assert "unknown enforcement unit" in rejects[3]
    assert "before valid from" in rejects[4]
    assert "outside the unit's area" in rejects[5]
    duty = session.execute(text("SELECT duty_state FROM officer WHERE cert_no = 'T0005'")).scalar()
    assert duty == "off_duty"
    area = (
        session.execute(
            text("SELECT township_code FROM officer_area JOIN officer ON id = officer_id WHERE cert_no = 'T0001'")
        )
        .scalars()
        .all()
    )
    assert area == [unit[1]]


def test_devices_import(session, tmp_path):
    cert = session.execute(text("SELECT cert_no FROM officer ORDER BY id LIMIT 1")).scalar()
    path = write_csv(
        tmp_path / "devices.csv",
        ["设备类型", "协议", "设备号", "执法证号"],
        [
            ["执法记录仪", "JT/T 808", "013912345678", cert],  # 2 good
            ["移动执法终端", "osmand", "phone-42", cert],  # 3 good
            ["执法记录仪", "jt808", "12ab", cert],  # 4 bad phone number
            ["无人机", "osmand", "d1", cert],  # 5 unknown kind
            ["移动执法终端", "osmand", "phone-43", "NOPE"],  # 6 unknown officer
            ["移动执法终端", "osmand", "phone-42", cert],  # 7 duplicate
        ],
    )
    report = import_devices(session, path)
    assert report.loaded == 2
    rejects = read_rejects(report.reject_file)
    assert set(rejects) == {4, 5, 6, 7}
    assert "11 to 20 digits" in rejects[4]
    protocol = session.execute(text("SELECT protocol FROM device WHERE identifier = '013912345678'")).scalar()
    assert protocol == "jt808"


def test_township_import_replaces_polygons_and_rejoins_targets(session, tmp_path):
    # A "real" polygon for 古林街道 that is a box around the Tanggu centre, in UTM 50N.
    box = shapely.box(TANGGU[0] - 0.01, TANGGU[1] - 0.01, TANGGU[0] + 0.01, TANGGU[1] + 0.01)
    gdf = gpd.GeoDataFrame({"code_12": ["120116053000", "999999999000"]}, geometry=[box, box], crs=4326).to_crs(32650)
    path = tmp_path / "towns.shp"
    gdf.to_file(path)
    path_csv = write_csv(
        tmp_path / "t.csv",
        ["credit_code", "name", "domains", "lon", "lat"],
        [[code(40), "边界公司", "health", *TANGGU]],
    )
    import_targets(session, path_csv)
    report = import_townships(session, path)
    assert report.loaded == 1
    assert "Binhai's 26 NBS codes" in read_rejects(report.reject_file)[2]
    assert any("reprojected" in n for n in report.notes)
    approximate, source = session.execute(
        text("SELECT approximate, source FROM township WHERE code = '120116053'")
    ).one()
    assert approximate is False and "towns.shp" in source
    town = session.execute(text("SELECT township_code FROM target WHERE key = :k"), {"k": code(40)}).scalar()
    assert town in ("120116001", "120116053")  # both polygons now cover it; lowest code wins
    area = session.execute(text("SELECT ST_Area(geom) FROM township WHERE code = '120116053'")).scalar()
    assert abs(area - box.area) < 1e-6


def test_a_gbk_csv_from_excel_loads_and_says_how_it_was_read(session, tmp_path):
    path = tmp_path / "gbk.csv"
    lines = ["统一社会信用代码,名称,执法领域,经度,纬度", f"{code(60)},滨海食品商行,health,{TANGGU[0]},{TANGGU[1]}"]
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    report = import_targets(session, path)
    assert report.loaded == 1 and any("GB18030" in n for n in report.notes)
    name = session.execute(text("SELECT name FROM target WHERE key = :k"), {"k": code(60)}).scalar()
    assert name == "滨海食品商行"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).replace(code(60), code(61)).encode("utf-8"))
    assert import_targets(session, bom).loaded == 1


def test_nul_bytes_and_control_characters_reject_their_row_only(session, tmp_path):
    path = tmp_path / "nul.csv"
    rows = [
        [code(62), "好公司", "health", *TANGGU],
        [code(63), "坏\x00公司", "health", *TANGGU],
        [code(64), "铃\x07公司", "health", *TANGGU],
        [code(65), "又一家", "health", *TANGGU],
    ]
    write_csv(path, ["credit_code", "name", "domains", "lon", "lat"], rows)
    report = import_targets(session, path)
    assert report.loaded == 2
    rejects = read_rejects(report.reject_file)
    assert rejects == {3: "name contains a NUL byte", 4: "name contains a control character"}


def test_a_large_xlsx_streams_and_a_zip_bomb_is_refused_unread(session, tmp_path):
    import zipfile

    from openpyxl import Workbook

    from ingest import tables

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["credit_code", "name", "domains", "lon", "lat"])
    for i in range(20_000):
        sheet.append([code(100_000 + i), f"公司{i}", "health", TANGGU[0] + (i % 100) * 1e-4, TANGGU[1]])
    path = tmp_path / "big.xlsx"
    book.save(path)
    report = import_targets(session, path)
    assert report.loaded == 20_000 and not report.rejects

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (tables.MAX_UNPACKED_BYTES + 1))
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(ImportFileError, match="unpacks to"):
        import_targets(session, bomb)
