"""Near miss: the learner turned the order history's stream on -- the first half of making it a global table --
but never added the us-west-2 replica: the second site's backend has no orders to serve, and writes in
us-west-2 go nowhere."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "12-dr-active-active"
EXPECT = {"DYNAMODB_GLOBAL_TABLE_REPLICA": "no_replica"}


def main():
    lab = reference(LAB)
    lab["replicate_invoices"]()
    lab["aws"]("dynamodb").update_table(TableName=lab["TABLE"], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})  # (and no ReplicaUpdates)
    until_ready(lab["step_2"])
    lab["step_3"]()


if __name__ == "__main__":
    main()
