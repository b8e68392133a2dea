//! Renderers read only `&Plan`: human (Terraform's vocabulary), JSON (Terraform's plan format)
//! and Markdown (a PR comment).
