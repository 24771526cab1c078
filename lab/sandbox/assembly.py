"""The sandbox's assembly: which engines run, which service APIs answer AWS calls, which packages add admin
routes (one explicit list each), and what engines are given from the layers above them.

A new service package adds its engine class to ENGINE_CLASSES, its ServiceApi class (lab/services/<svc>/api.py)
to SERVICE_APIS and its `register` to ROUTE_PACKAGES; nothing is found by scanning folders and nothing registers
itself by being imported.
"""

from __future__ import annotations

from collections.abc import Callable

from lab import inventory
from lab.app import checking
from lab.app.drills import ExerciseDrillJudge
from lab.kernel.api import ServiceApi
from lab.kernel.bus import ResourceStatusChanged
from lab.kernel.engine import Engine
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter
from lab.sandbox import routes as sandbox_routes
from lab.services.awslambda.api import LambdaApi
from lab.services.backup import routes as backup_routes
from lab.services.backup.api import BackupApi
from lab.services.backup.engine import Backup
from lab.services.cloudtrail import routes as cloudtrail_routes
from lab.services.cloudtrail.api import CloudTrailApi
from lab.services.cloudtrail.engine import CloudTrail
from lab.services.cloudwatch.api import CloudWatchApi
from lab.services.cloudwatch.engine import CloudWatch
from lab.services.drills import routes as drills_routes
from lab.services.drills.engine import Drills
from lab.services.drs import routes as drs_routes
from lab.services.drs.api import DrsApi
from lab.services.drs.engine import Drs
from lab.services.dynamodb import routes as dynamodb_routes
from lab.services.dynamodb.api import DynamoDBApi
from lab.services.dynamodb.engine import DynamoDB
from lab.services.ebs.api import DlmApi
from lab.services.ebs.direct_api import EbsDirectApi
from lab.services.ebs.ec2_api import Ec2Api
from lab.services.ebs.engine import Ebs
from lab.services.faults import routes as faults_routes
from lab.services.faults.api import FisApi, VolumeStatusApi
from lab.services.faults.engine import Faults
from lab.services.rds import routes as rds_routes
from lab.services.rds.api import RdsApi
from lab.services.rds.engine import RdsData
from lab.services.route53 import routes as route53_routes
from lab.services.route53.api import Route53Api
from lab.services.route53.engine import Route53
from lab.services.s3 import routes as s3_routes
from lab.services.s3.api import S3Api
from lab.services.s3.engine import S3
from lab.services.sts.api import StsApi
from lab.services.workload import routes as workload_routes
from lab.services.workload.engine import Workload

ENGINE_CLASSES: tuple[type[Engine], ...] = (
    Faults, Workload, S3, Backup, Ebs, RdsData, DynamoDB, Route53, CloudWatch, CloudTrail, Drs, Drills,
)

#: the lab's AWS service APIs (each needs its engine above): their operations answer instead of the backend
SERVICE_APIS: tuple[type[ServiceApi], ...] = (
    S3Api, BackupApi, DlmApi, Ec2Api, EbsDirectApi, RdsApi, DynamoDBApi, Route53Api, CloudTrailApi, FisApi,
    VolumeStatusApi, DrsApi, StsApi, CloudWatchApi, LambdaApi,
)

ROUTE_PACKAGES: tuple[Callable[[AdminRouter], None], ...] = (
    sandbox_routes.register, inventory.register, workload_routes.register, s3_routes.register,
    backup_routes.register, rds_routes.register, dynamodb_routes.register, route53_routes.register,
    cloudtrail_routes.register, faults_routes.register, drills_routes.register, drs_routes.register,
    checking.register,
)


def wire(sandbox: Sandbox) -> None:
    """Connect what engines need from the layers above them: the drills' judge of the labs, and their ear for
    long-running operations that complete."""
    drills = sandbox.engines.find(Drills)
    if drills is not None:
        drills.judge = ExerciseDrillJudge()
        sandbox.bus.subscribe(ResourceStatusChanged, drills.status_changed)


def admin_router() -> AdminRouter:
    router = AdminRouter()
    for register in ROUTE_PACKAGES:
        register(router)
    return router
