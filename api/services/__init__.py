"""The API's domain services, one module per resource: applications, certificates, officers, sessions (log-in and
log-out), payments and unions. Routers (api/routers) and pages (api/pages) translate HTTP to calls of these and
back; each rule is enforced here once, or in the workflow, which has the last word on an application.

A request's transaction ends at the boundary: api/deps.get_session commits when the handler succeeds and rolls back
when it fails. Services flush; they do not commit. The few writes that must hold before that, whatever happens next,
go through `api.services.transaction`, by name.
"""
