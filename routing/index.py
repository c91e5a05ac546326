"""A read-only index over one agent snapshot, so a decision does not scan every agent.

Built once from a snapshot (O(n)), it groups agents by skill and by language and keeps,
lazily per (strategy, parameter, channel, workers, bucket), the routable agents of the
bucket sorted by the strategy key. A decision then walks the smallest relevant bucket
from the best end and stops at the first agent that meets every requirement — usually
after a handful of agents even with 10 000 logged in (issue 7: ≥20 000 decisions/s,
p99 ≤ 1 ms). It never changes after construction, so ``decide`` stays pure; the service
builds a fresh one whenever agent state changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from types import MappingProxyType

from core.domain import Channel
from routing.model import AgentSnapshot, Workers
from routing.strategies import StrategySpec, tiebreak

Bucket = tuple[str, str] | None  # ("skill", name) | ("lang", code) | None = every agent


def workers_match(agent: AgentSnapshot, workers: Workers) -> bool:
    """Whether a queue staffed by ``workers`` may use this agent or bot pool."""
    if workers == "any":
        return True
    return agent.is_bot_pool == (workers == "bot")


class AgentIndex:
    """Agents grouped by skill and language, with cached strategy orderings."""

    def __init__(self, agents: Iterable[AgentSnapshot]):
        self.agents = MappingProxyType({a.id: a for a in agents})
        by_skill: dict[str, list[AgentSnapshot]] = defaultdict(list)
        by_lang: dict[str, list[AgentSnapshot]] = defaultdict(list)
        for a in self.agents.values():
            for s in a.skills:
                by_skill[s].append(a)
            for lang in a.languages:
                by_lang[lang].append(a)
        self._groups: dict[Bucket, list[AgentSnapshot]] = {None: list(self.agents.values())}
        for s, members in by_skill.items():
            self._groups[("skill", s)] = members
        for lang, members in by_lang.items():
            self._groups[("lang", lang)] = members
        self._ordered: dict[tuple, list[AgentSnapshot]] = {}

    def __len__(self) -> int:
        return len(self.agents)

    def size(self, bucket: Bucket) -> int:
        """How many agents (routable or not) the bucket holds; 0 when nobody has it."""
        return len(self._groups.get(bucket, ()))

    def ordered(
        self,
        strategy: StrategySpec,
        param: Hashable,
        seed: int | None,
        channel: Channel,
        workers: Workers,
        bucket: Bucket,
    ) -> list[AgentSnapshot]:
        """Routable agents of ``bucket`` for ``channel``, best first for ``strategy``."""
        cache_key = (strategy.name, param, seed, channel, workers, bucket)
        hit = self._ordered.get(cache_key)
        if hit is not None:
            return hit
        key = strategy.key
        members = [
            a
            for a in self._groups.get(bucket, ())
            if workers_match(a, workers) and a.can_take(channel)
        ]
        members.sort(key=lambda a: (*key(a, param), *tiebreak(a.id, seed)))
        self._ordered[cache_key] = members
        return members
