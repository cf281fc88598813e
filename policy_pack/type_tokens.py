"""The one table of Pulumi resource type tokens the kit reads: every rule of the pack and every
tooling module (plan, diff, review, scan, offline mocks) names a resource type by a constant
from here, never by its own string.

A token is ``<package>:<module>/<member>:<Type>`` for pulumi-aws
(``aws:sagemaker/endpoint:Endpoint``), ``aws-native:<service>:<Type>`` for pulumi-aws-native
and ``kubernetes:<group>/<version>:<Kind>`` for pulumi-kubernetes. The module is named
``type_tokens`` rather than ``types``: the policy host runs this directory as a script, so a
``types.py`` here would shadow the standard library's module.
"""

from __future__ import annotations

# --- provider prefixes -------------------------------------------------------------------------

AWS_NATIVE_PREFIX = "aws-native:"
"""Every pulumi-aws-native (CloudControl) token starts with this."""
KUBERNETES_PREFIX = "kubernetes:"
"""Every pulumi-kubernetes token starts with this."""
KUBERNETES_HELM_PREFIX = "kubernetes:helm.sh/"
"""Helm releases and charts: they hold Kubernetes objects, they are none themselves."""
KUBERNETES_YAML_PREFIX = "kubernetes:yaml"
"""ConfigFile / ConfigGroup: groups of objects read from YAML."""
KUBERNETES_KUSTOMIZE_PREFIX = "kubernetes:kustomize"
"""Kustomize directories: groups of objects."""

# --- SageMaker ---------------------------------------------------------------------------------

SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SAGEMAKER_ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SAGEMAKER_MODEL = "aws:sagemaker/model:Model"
SAGEMAKER_MODEL_PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
SAGEMAKER_DATA_QUALITY_JOB_DEFINITION = (
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
)
SAGEMAKER_MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
SAGEMAKER_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SAGEMAKER_INFERENCE_COMPONENT = "aws-native:sagemaker:InferenceComponent"
SAGEMAKER_MODEL_QUALITY_JOB_DEFINITION = "aws-native:sagemaker:ModelQualityJobDefinition"
SAGEMAKER_MODEL_EXPLAINABILITY_JOB_DEFINITION = (
    "aws-native:sagemaker:ModelExplainabilityJobDefinition"
)

# --- Application Auto Scaling ------------------------------------------------------------------

APPAUTOSCALING_TARGET = "aws:appautoscaling/target:Target"
APPAUTOSCALING_POLICY = "aws:appautoscaling/policy:Policy"

# --- CloudWatch, EventBridge -------------------------------------------------------------------

CLOUDWATCH_METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CLOUDWATCH_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLOUDWATCH_DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
CLOUDWATCH_EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
CLOUDWATCH_EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULER_SCHEDULE = "aws:scheduler/schedule:Schedule"

# --- IAM ---------------------------------------------------------------------------------------

IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
IAM_USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_POLICY_ATTACHMENT_TYPES = (
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_POLICY_ATTACHMENT,
    IAM_USER_POLICY_ATTACHMENT,
    IAM_GROUP_POLICY_ATTACHMENT,
)
"""Every way of attaching a managed policy to a principal."""
IAM_OPENID_CONNECT_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"

# --- KMS ---------------------------------------------------------------------------------------

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
KMS_ALIAS = "aws:kms/alias:Alias"

# --- S3 ----------------------------------------------------------------------------------------

S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
S3_BUCKET_TYPES = (S3_BUCKET, S3_BUCKET_V2)
"""A bucket, declared by either generation of the resource."""
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
S3_BUCKET_VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
S3_BUCKET_VERSIONING_TYPES = (S3_BUCKET_VERSIONING, S3_BUCKET_VERSIONING_V2)
S3_BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
S3_BUCKET_ENCRYPTION_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
S3_BUCKET_ENCRYPTION_TYPES = (S3_BUCKET_ENCRYPTION, S3_BUCKET_ENCRYPTION_V2)
S3_BUCKET_LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"

# --- SNS, SQS ----------------------------------------------------------------------------------

SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"

# --- ECR ---------------------------------------------------------------------------------------

ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

# --- EKS ---------------------------------------------------------------------------------------

EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

# --- EC2 and VPC -------------------------------------------------------------------------------

EC2_VPC = "aws:ec2/vpc:Vpc"
EC2_SUBNET = "aws:ec2/subnet:Subnet"
EC2_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
EC2_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EC2_INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
EC2_NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EC2_EIP = "aws:ec2/eip:Eip"
EC2_ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
EC2_VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
EC2_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_TRANSIT_GATEWAY = "aws:ec2/transitGateway:TransitGateway"

# --- Kubernetes --------------------------------------------------------------------------------

KUBERNETES_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
KUBERNETES_SERVICE = "kubernetes:core/v1:Service"
KUBERNETES_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
KUBERNETES_INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ARGO_ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
