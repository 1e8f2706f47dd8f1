"""What a small model writes before it reaches a person: scaffolding cut out, loops stopped.

Two streaming filters :class:`chat.llm.local.LocalModel` runs its text through:

* :class:`ScaffoldingGuard` holds back the little text that could still turn
  into scaffolding (a chat-template tag such as ``<tool_call>``, a tool-call
  JSON object or code fence, an old ``[tool …]`` note, or words of a hidden
  note such as the SDK's cancel note) and ends the answer where scaffolding
  begins. A complete call to a declared tool found mid-answer is handed back
  as a call. Rule (issue 11): nothing the user never typed or saw appears in
  an answer.
* :class:`RepetitionDetector` says when an answer has started looping (the
  same line three times, the same run of words three times, or a run of text
  repeated back to back) so the generation can stop long before the output cap.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from .toolcalls import ParsedToolCall, could_be_tool_call, parse_tool_call

__all__ = ["GuardResult", "RepetitionDetector", "ScaffoldingGuard", "CUT_OFF_LENGTH", "CUT_OFF_LOOP"]

# The visible endings of an answer that was stopped (the eval looks for "cut off").
CUT_OFF_LENGTH = "\n\n*(cut off: the answer reached the length limit)*"
CUT_OFF_LOOP = "\n\n*(cut off: the answer started repeating itself)*"

# Literal markers that never belong in an answer (Qwen's template, the SDK's hidden-context wrapper,
# and the "[tool …]" notes this project once wrote into prompts).
MARKERS = (
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<tools>",
    "</tools>",
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<HiddenContext>",
    "</HiddenContext>",
    "Hidden context for the agent",
    "[tool ",
)
_STARTS = "<[{`H"  # the first characters of everything above, and of a call object or code fence
_ECHO_WORDS = 4  # this many consecutive words of a hidden note in an answer count as an echo
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)  # a fenced code block (or one still open)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


@dataclass
class GuardResult:
    """What :meth:`ScaffoldingGuard.feed` decided for one piece of text.

    ``text`` may be released to the user now; ``stop`` means the answer ends here
    (scaffolding began); ``call`` is a declared tool's call found mid-answer.
    """

    text: str = ""
    stop: bool = False
    call: ParsedToolCall | None = None


class ScaffoldingGuard:
    """Streaming filter: release text that can't be scaffolding, end the answer where scaffolding starts.

    Args:
        hidden: texts the model was given but the user never saw (hidden context
            notes); an answer repeating ``_ECHO_WORDS`` consecutive words of one
            of them is cut before those words.
        tool_names: declared tools; a complete call to one of them found in the
            text is returned as :attr:`GuardResult.call`.

    Feed pieces with :meth:`feed`, then call :meth:`flush` at the end. The
    held-back text is at most a few words (or one pending tag/JSON object).
    """

    def __init__(self, hidden: Iterable[str] = (), tool_names: Collection[str] = ()):
        self._tool_names = tool_names
        self._ngrams: set[tuple[str, ...]] = set()
        for note in hidden:
            words = _words(note)
            for i in range(len(words) - _ECHO_WORDS + 1):
                self._ngrams.add(tuple(words[i : i + _ECHO_WORDS]))
        self._held = ""
        self.released = ""
        self.stopped = False

    # -- decisions on the held text ----------------------------------------------------

    def _marker_at(self, s: str) -> str:
        """``"yes"`` if ``s`` starts with scaffolding, ``"maybe"`` if it still could, else ``"no"``."""
        for marker in MARKERS:
            if s.startswith(marker):
                return "yes"
            if marker.startswith(s):
                return "maybe"
        if s[0] in "{`<" and could_be_tool_call(s):
            return "maybe"
        return "no"

    def _pending_call(self, s: str) -> ParsedToolCall | None:
        """A complete call object (fenced, tagged or bare) at the start of ``s``, if any."""
        for end in range(len(s), 0, -1):
            if s[end - 1] in "}`>":
                call = parse_tool_call(s[:end], self._tool_names)
                if call is not None:
                    return call
                break
        return None

    def _echo_start(self, text: str) -> int | None:
        """Where in ``text`` (held) an echo of a hidden note starts, counting released words too."""
        if not self._ngrams:
            return None
        tail_released = _words(self.released)[-(_ECHO_WORDS - 1) :] if self.released else []
        spans = [(m.start(), m.group().lower()) for m in _WORD.finditer(text)]
        words = tail_released + [w for _, w in spans]
        for i in range(len(words) - _ECHO_WORDS + 1):
            if tuple(words[i : i + _ECHO_WORDS]) in self._ngrams:
                held_index = i - len(tail_released)
                return spans[max(held_index, 0)][0]
        return None

    def _release_point(self, s: str) -> int:
        """How much of ``s`` may go out now: up to any pending start, less the last few words."""
        point = len(s)
        for i, ch in enumerate(s):
            if ch in _STARTS:
                verdict = self._marker_at(s[i:])
                if verdict != "no":
                    point = i
                    break
        if self._ngrams:
            # Keep the last words back until we know they don't begin an echo.
            # (The last word may be unfinished, and one more word before an echo, a dangling
            # "and" or "the", is dropped with it: so _ECHO_WORDS + 1 words.)
            spans = [m.start() for m in _WORD.finditer(s[:point])]
            if len(spans) >= _ECHO_WORDS + 1:
                point = min(point, spans[-(_ECHO_WORDS + 1)])
            elif spans:
                point = min(point, spans[0])
        return len(s[:point].rstrip(" \t\r\n,;:"))  # trailing space and commas wait: scaffolding may follow

    # -- API -------------------------------------------------------------------------------

    def feed(self, piece: str) -> GuardResult:
        """Take the next piece of the answer; return what may be shown now, and whether to stop."""
        if self.stopped:
            return GuardResult(stop=True)
        self._held += piece
        s = self._held
        echo = self._echo_start(s)
        if echo is not None:
            return self._stop_at(echo)
        for i, ch in enumerate(s):
            if ch not in _STARTS:
                continue
            verdict = self._marker_at(s[i:])
            if verdict == "yes":
                return self._stop_at(i)
            if verdict == "maybe":
                call = self._pending_call(s[i:]) if self._tool_names else None
                if call is not None:
                    result = self._stop_at(i)
                    result.call = call
                    return result
                if s[i] == "{" and self._complete_object(s[i:]):
                    return self._stop_at(i)  # a call object for no declared tool: not for the user
                break
        point = self._release_point(s)
        out, self._held = s[:point], s[point:]
        self.released += out
        return GuardResult(text=out)

    @staticmethod
    def _complete_object(s: str) -> bool:
        """Whether ``s`` starts with a complete call-shaped JSON object (any tool name)."""
        from .toolcalls import looks_like_tool_call, object_end

        end = object_end(s, 0)
        return end is not None and looks_like_tool_call(s[:end])

    def _stop_at(self, index: int) -> GuardResult:
        out = self._held[:index]
        # A sentence cut mid-way reads worse than one left out: drop a dangling ", and the".
        out = re.sub(r"(?:(?:^|[\s,;:]+)(?:and|but|or|so|because|that|the|a))+$", "", out.rstrip(), flags=re.IGNORECASE)
        out = out.rstrip(" \t\n,;:")
        self._held = ""
        self.stopped = True
        self.released += out
        return GuardResult(text=out, stop=True)

    def flush(self) -> str:
        """The end of the answer: release what is held unless it is (the start of) scaffolding."""
        s, self._held = self._held, ""
        if self.stopped or not s:
            return ""
        for i, ch in enumerate(s):
            if ch in _STARTS and self._marker_at(s[i:]) == "yes":
                s = s[:i].rstrip()
                break
            if ch in "{`" and self._marker_at(s[i:]) == "maybe" and s[:i].strip() != "":
                # An unfinished call object after some prose: the prose is the answer.
                s = s[:i].rstrip()
                break
        s = s.rstrip(" \t\r\n")
        self.released += s
        return s


class RepetitionDetector:
    """Says when a streamed answer loops: a line, or a run of words, three times, or a run repeated back to back.

    The word-run rule is the eval's own loop check (``bench/eval.py``): a list
    whose items repeat one sentence ("Plan your day trip with friends or family
    members. This could include ...", eval case ``quick-plan``) has no line and
    no back-to-back run in common, and ran to the output cap. Code in fences
    is left out of that rule (code repeats itself by nature).

    Args:
        min_line: shortest line (characters, stripped) the line rule counts.
        run_words: how many consecutive words the word-run rule compares.
        min_span: shortest repeated stretch (all copies together, characters)
            the back-to-back rule counts; shorter runs (``"!!!"``, ``"----"``) are fine.
        copies: how many back-to-back copies make a loop.
        max_period: longest repeated unit the back-to-back rule looks for.

    Feed the whole answer so far (:meth:`looping`); cheap enough to call per token.
    """

    def __init__(
        self, *, min_line: int = 12, run_words: int = 8, min_span: int = 60, copies: int = 3, max_period: int = 200
    ):
        self.min_line = min_line
        self.run_words = run_words
        self.min_span = min_span
        self.copies = copies
        self.max_period = max_period

    def looping(self, text: str) -> bool:
        """Whether ``text`` (the answer so far) has started to repeat itself."""
        return self._line_loop(text) or self._tail_loop(text) or self._word_loop(text)

    def _word_loop(self, text: str) -> bool:
        prose = _FENCED.sub("\n", text)  # code in ``` fences left out
        words = _words(prose)
        counts: dict[tuple[str, ...], int] = {}
        for i in range(len(words) - self.run_words + 1):
            run = tuple(words[i : i + self.run_words])
            counts[run] = counts.get(run, 0) + 1
            if counts[run] >= self.copies:
                return True
        return False

    def _line_loop(self, text: str) -> bool:
        lines = [ln.strip() for ln in text.split("\n")[:-1]]  # the last line may be unfinished
        counts: dict[str, int] = {}
        for line in lines:
            if len(line) >= self.min_line and not set(line) <= set("-|:=*_ #`"):
                counts[line] = counts.get(line, 0) + 1
                if counts[line] >= self.copies:
                    return True
        return False

    def _tail_loop(self, text: str) -> bool:
        n = len(text)
        for period in range(1, min(self.max_period, n // self.copies) + 1):
            copies = self.copies if period * self.copies >= self.min_span else -(-self.min_span // period)
            span = period * copies
            if span > n:
                continue
            unit = text[n - period :]
            if not unit.strip():
                continue
            if all(text[n - (k + 1) * period : n - k * period] == unit for k in range(1, copies)):
                return True
        return False
