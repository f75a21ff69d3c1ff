//! Where an entry ran: `resource.type` and labels mapped to service, revision,
//! location and project (<https://cloud.google.com/logging/docs/api/v2/resource-list>).

use super::value::Object;
use std::borrow::Cow;

/// Service, revision, location and project as far as the resource tells them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement<'a> {
    /// Cloud Run service or job, GKE app/container, App Engine module, function.
    pub service: Option<Cow<'a, str>>,
    /// Cloud Run revision or job execution, App Engine version, GKE pod template hash.
    pub revision: Option<Cow<'a, str>>,
    /// Region or zone.
    pub location: Option<Cow<'a, str>>,
    /// Project id.
    pub project: Option<Cow<'a, str>>,
}

/// Maps a resource to its placement; `entry_labels` supply what some types keep there.
pub fn place<'a>(kind: &str, res: &Object<'a>, entry_labels: &Object<'a>) -> Placement<'a> {
    let r = |k: &str| res.str(k).filter(|s| !s.is_empty());
    let l = |k: &str| entry_labels.str(k).filter(|s| !s.is_empty());
    let project = r("project_id");
    match kind {
        "cloud_run_revision" => Placement {
            service: r("service_name").or_else(|| r("configuration_name")),
            revision: r("revision_name"),
            location: r("location"),
            project,
        },
        "cloud_run_job" => Placement {
            service: r("job_name"),
            revision: l("run.googleapis.com/execution_name"),
            location: r("location"),
            project,
        },
        "k8s_container" | "k8s_pod" => Placement {
            service: l("k8s-pod/app")
                .or_else(|| l("k8s-pod/app_kubernetes_io/name"))
                .or_else(|| r("container_name"))
                .or_else(|| r("pod_name")),
            revision: l("k8s-pod/pod-template-hash"),
            location: r("location").or_else(|| r("cluster_location")),
            project,
        },
        "gae_app" => Placement {
            service: r("module_id"),
            revision: r("version_id"),
            // `zone` (us14, us15...) is the cell an instance runs in, not where the
            // version is deployed: one version's instances report several, and
            // splitting it by zone would judge one version as many.
            location: None,
            project,
        },
        "cloud_function" => Placement {
            service: r("function_name"),
            revision: None,
            location: r("region"),
            project,
        },
        // A load balancer's request log is named by the backend it routed to (or the
        // URL map, when no backend was picked): failures only the LB saw are its own,
        // not "no service" and not a Cloud Run service's.
        "http_load_balancer" => Placement {
            service: r("backend_service_name").or_else(|| r("url_map_name")),
            revision: None,
            location: r("zone"),
            project,
        },
        "http_external_regional_lb_rule" | "internal_http_lb_rule" => Placement {
            service: r("backend_target_name")
                .or_else(|| r("backend_service_name"))
                .or_else(|| r("url_map_name")),
            revision: None,
            location: r("region"),
            project,
        },
        _ => Placement {
            service: None,
            revision: None,
            location: r("location").or_else(|| r("region")).or_else(|| r("zone")),
            project,
        },
    }
}
