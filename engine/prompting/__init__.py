"""Prompt interpreters: English -> library script. The offline interpreter (`interpret_offline`)
is the embedded default; `LLMInterpreter` uses any OpenAI-compatible endpoint. Both scripts run
through the sandbox (`prompt_to_scenario`)."""
from engine.prompting.offline import Interpretation, OfflineInterpreter, interpret_offline
from engine.prompting.pipeline import PromptResult, prompt_to_scenario
from engine.prompting.settings import LLMSettings

__all__ = ["Interpretation", "LLMSettings", "OfflineInterpreter", "PromptResult", "interpret_offline",
           "prompt_to_scenario"]
