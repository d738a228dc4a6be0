"""Kubernetes on EKS, on aws-cdk-lib's `aws_eks_v2` (native AWS::EKS::Cluster, no kubectl
Lambda, nothing that needs Docker or an account at synth): the cluster with its access, logs and
add-ons (`cluster`), the capacity pods run on (`compute`: Auto Mode, managed node groups,
Fargate) and shared storage for pods (`storage`)."""
