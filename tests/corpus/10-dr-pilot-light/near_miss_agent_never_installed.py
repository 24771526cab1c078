"""Near miss: the data replicate and DRS is set up in us-west-2 (initialized, a replication template), but the
replication agent was never installed on the backend: DRS has no source server, nothing of the backend's disks
reaches us-west-2, and there is nothing to launch after an outage."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "10-dr-pilot-light"
EXPECT = {"DRS_SOURCE_SERVER_REPLICATING": "no_source_server"}


def main():
    lab = reference(LAB)
    until_ready(lab["step_1"])
    lab["replication_template"]()  # (and no lab drs install-agent)
    lab["primary_dns"]()


if __name__ == "__main__":
    main()
