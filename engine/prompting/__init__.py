"""Prompt interpreters: English -> library script -> checked scenario.

The offline interpreter (`interpret_offline`) is the embedded default; `LLMInterpreter`
(`engine.prompting.llm`) uses any OpenAI-compatible endpoint. `prompt_to_scenario` runs either's
script in the sandbox, checks the result against the prompt (`engine.checks` with the intents the
prompt asks for: `asks_of`, `review_scenario`) and repairs it when it does not match
(`repair_script`; the LLM is asked again first). `run_checked_script` does the same for a script
from anywhere else (the editor, a file). What cannot be repaired is returned in
`PromptResult.findings`.
"""
from engine.prompting.asks import Ask, asks_of
from engine.prompting.offline import Interpretation, OfflineInterpreter, interpret_offline
from engine.prompting.pipeline import (
    PromptInterpreter, PromptResult, check_against_prompt, prompt_to_scenario, run_checked_script,
)
from engine.prompting.repair import RepairOutcome, repair_script
from engine.prompting.review import Review, review_scenario
from engine.prompting.settings import LLMSettings

__all__ = ["Ask", "Interpretation", "LLMSettings", "OfflineInterpreter", "PromptInterpreter", "PromptResult", "RepairOutcome", "Review",
           "asks_of", "check_against_prompt", "interpret_offline", "prompt_to_scenario", "repair_script",
           "review_scenario", "run_checked_script"]
