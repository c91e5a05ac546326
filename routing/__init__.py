"""Routing (ACD): queues, skills, agent states, strategies, overflow, callbacks, EWT, Erlang.

model.py       frozen values: AgentSnapshot, ContactRequest, QueueConfig, Policy
decide.py      decide() — the pure decision; pick_contact() and plan() for the queue side
strategies.py  longest_idle, skill_level, round_robin, least_occupied, last_agent_first,
               caller_area (as sort keys)
index.py       AgentIndex: the snapshot grouped by skill/language for 10 000-agent centers
state.py       the agent state machine (pure)
erlang.py      Erlang B/C/A and staffing
ewt.py         position in line, estimated wait, the announcement sentence
simulate.py    discrete-event simulator running the real decide()
config.py      queues as YAML/dicts (queues.yaml is the demo center)
service.py     the I/O layer: store, bus, timers, recovery
commands.py    `hotline staffing`, `hotline route`, `hotline simulate`
"""
