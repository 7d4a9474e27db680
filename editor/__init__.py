"""The editing domain, no Qt: document, selection, current time, commands with undo/redo.

document.Document      the open scenario, its file, selection, waypoint selection, time, undo stack,
                       events (scenario_changed, edit_finished, history_changed, ...); drags are one command
commands               every edit as a command with do / undo / label (AddAgent, RemoveAgent, DuplicateAgent,
                       MoveAgent, RotateAgent, AddWaypoint, AppendWaypoint, MoveWaypoint, DeleteWaypoint,
                       SetWaypoint, SetSpeedProfile, SetAgentClass, SetAgentAsset, SetAgentSize,
                       SetEnvironment, SetMap, ApplyPromptResult, CompoundCommand, ReplaceScenario)
trajectory_edit        pure waypoint edits (move, insert, delete, append, rotate, re-head along the path)
speed_profile          speeds at waypoints and retiming a trajectory to follow them
lane_snap              projection onto lane centre lines, snapping, walking along a lane
drop_placement         where a dropped asset stands and how it moves (along the lane, across a crosswalk)
interaction            hit testing and drag sessions for the bird's-eye view (world metres in, scenarios out)
recovery               autosave files and finding the work of a crashed session
"""
