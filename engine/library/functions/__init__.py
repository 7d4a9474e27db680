"""The library functions scripts call; importing this package registers all of them.

Modules by category: setup (environment, road), vehicles (ego and vehicle motions), interactions
(cut-in, overtake, merge), intersection (turns, U-turn, crossing traffic), vulnerable (pedestrians
and cyclists), static (parked vehicles, cones, barriers, work zones).
"""
from engine.library.functions import interactions, intersection, setup, static, vehicles, vulnerable  # noqa: F401
from engine.library.functions import sequences, traffic, world  # noqa: F401,E402
from engine.library.functions import roundabout  # noqa: F401,E402
