"""The kernel: what every other part of the sandbox depends on, and which depends on nothing else of the lab
but the simulation's clock and event log (`lab.sim`) and the constants (`lab.config`).

- `context`: one request through the gateway (RequestContext, Response, Identity);
- `errors`: AwsError, the error a service raises (the gateway's codec writes it in the request's protocol);
- `routes`: the admin API's route table (`/_lab/...`), filled explicitly by each package's `register(router)`;
- `engine`: the Engine base class (state, time, observation) and the small Protocols engines find each other by;
- `bus`: the sandbox's event bus (calls answered, objects and items written behind the gateway's back);
- `data`: the data port (bulk reads and writes the engines make, implemented by the backends);
- `port`: the Sandbox port, the typed face of the sandbox that services, the gateway and the inventory use;
- `disk_cache`: what the lab derives from files that change with an upgrade, kept in the user's cache dir.
"""
