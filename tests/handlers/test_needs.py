"""需求分析 on a fixed set of 60 answers written for the test (20 青年, 20 临退休, 20 工程运维)."""
from __future__ import annotations

from handlers._services import needs
from handlers._services.needs import Voice

YOUTH = [
    "希望多讲讲职业规划，不知道以后往哪个方向发展", "想学防汛知识，也想了解职业规划", "职业规划方面的指导，还有考证的经验",
    "希望有技能培训，尤其是新设备的操作", "职业规划和技能培训都想学", "想参加技能培训，提升岗位技能",
    "防汛抢险的实际操作想多练练", "考证需要哪些准备，职业规划怎么做", "希望单位组织技能培训和考证辅导",
    "职业规划，晋升通道", "多开展技能培训", "防汛应急预案想系统学一下", "职业规划讲座", "技能培训最需要",
    "希望有老师傅带一带，做好职业规划", "考证和技能培训", "想学防汛调度", "职业规划和晋升", "技能培训，新技术",
    "防汛值班要注意什么",
]
NEAR_RETIREMENT = [
    "希望把经验传承下去，带好年轻人", "经验传承很重要，想搞传帮带", "退休政策想了解清楚，养老保险怎么算",
    "经验传承，多给年轻人讲讲老经验", "想了解退休政策", "防汛的老经验想整理出来做经验传承", "传帮带，经验传承",
    "退休政策和养老保险", "身体健康方面的讲座，健康养生", "经验传承的机会多一些", "防汛抢险的经验可以给年轻人讲",
    "退休政策变化", "希望有传帮带的安排", "健康养生知识", "经验传承和传帮带结合起来", "防汛方面我可以讲讲",
    "退休政策解读", "经验传承", "养老保险和退休政策", "传帮带做起来，经验传承不能断",
]
OPERATIONS = [
    "闸门操作规程要再培训", "溢洪道检查的要点", "闸门操作和设备维护", "防汛期间的溢洪道运行", "设备维护的新方法",
    "大坝巡查的重点部位", "闸门操作的安全注意事项", "溢洪道和闸门的维护", "设备维护保养", "防汛抢险演练多搞几次",
    "闸门操作", "溢洪道消能设施检查", "大坝巡查记录怎么写", "设备维护和闸门操作规程", "水情测报的新设备",
    "防汛物资管理", "闸门操作实操培训", "溢洪道清理", "设备维护", "防汛值班和闸门操作",
]
VOICES = ([Voice(t, ("青年",)) for t in YOUTH] + [Voice(t, ("临退休",)) for t in NEAR_RETIREMENT]
          + [Voice(t, ("工程运维",)) for t in OPERATIONS])


def test_the_sixty_answers_are_sixty():
    assert len(VOICES) == 60 and len(set(v.text for v in VOICES)) == 60


def test_top_keywords_per_cohort():
    report = needs.analyse(VOICES)
    assert report.cohorts["青年"].keywords[:2] == ["职业规划", "技能培训"]
    assert report.cohorts["临退休"].keywords[:2] == ["经验传承", "退休政策"]
    assert report.cohorts["工程运维"].keywords[:2] == ["闸门操作", "设备维护"]
    assert "溢洪道" in report.cohorts["工程运维"].keywords[:4]
    assert "传帮带" in report.cohorts["临退休"].keywords[:4]
    assert "考证" in report.cohorts["青年"].keywords[:4]


def test_common_needs_are_separated_from_particular_ones():
    report = needs.analyse(VOICES)
    assert report.common == ["防汛"]
    assert {"职业规划", "技能培训", "考证"} <= set(report.cohorts["青年"].particular)
    assert {"经验传承", "退休政策", "传帮带"} <= set(report.cohorts["临退休"].particular)
    assert {"闸门操作", "设备维护", "溢洪道"} <= set(report.cohorts["工程运维"].particular)
    for cohort in report.cohorts.values():
        assert "防汛" not in cohort.particular
    # stop words never come out as needs
    assert not {"希望", "学习", "方面", "想学"} & {w for c in report.cohorts.values() for w in c.keywords}


def test_representative_answers_quote_the_cohorts_own_texts():
    report = needs.analyse(VOICES)
    youth = report.cohorts["青年"]
    assert youth.quotes and all(q in YOUTH for q in youth.quotes)
    assert any("职业规划" in q for q in youth.quotes)
    assert any("经验传承" in q for q in report.cohorts["临退休"].quotes)


def test_needs_link_to_content_topics_per_cohort():
    topics = needs.analyse(VOICES).topics_by_cohort()
    assert topics["青年"][:3] == ["防汛", "职业发展", "岗位技能"]
    assert topics["临退休"][:3] == ["防汛", "经验传承", "退休政策"]
    assert topics["工程运维"][:2] == ["防汛", "闸门运行"]


def test_rendered_report_names_common_and_particular_needs():
    from content_packs.schema import Manifest, Pack

    pack = Pack(Manifest(id="p", version=1, title="测试", kind="survey", topics=("x",), description="x"), folder=None)
    text = needs.render(pack, needs.analyse(VOICES))
    assert "共性需求（各人群都提到）：防汛（→防汛）" in text
    assert "【青年】" in text and "职业规划（→职业发展）" in text and "代表性回答：“" in text
