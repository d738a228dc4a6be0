"""EKS cluster blueprint (docs/eks-cluster.md): `stack.py` composes the Kubernetes patterns
(patterns/kubernetes/) into one cluster per region; `k8s/` holds the sample workload, which is
applied with kubectl or GitOps, never by CloudFormation."""
