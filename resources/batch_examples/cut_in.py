# A truck cuts in from the left lane ahead of the ego while a pedestrian waits to cross.
set_environment(time_of_day="dusk", weather="clear")
truck_1 = cut_in(ego, side="left", cls="truck", speed=10.0, gap=8.0)
pedestrian_1 = pedestrian_crossing(side="right")
