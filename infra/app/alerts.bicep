@description('Alerts on the log messages the app writes (Application Insights traces, workspace-based).')
param namePrefix string
param location string
param tags object
param applicationInsightsId string
@description('E-mail of the operators\' action group; empty: alerts fire without a notification (visible in the portal).')
param alertEmail string

resource operators 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'linkageops'
    enabled: true
    emailReceivers: [{ name: 'operators', emailAddress: alertEmail, useCommonAlertSchema: true }]
  }
}

var actions = empty(alertEmail) ? [] : [operators.id]

// HoldDeliveryActivity: "Delivery {Delivery} ({Inbox}/{Blob}) is held after {Attempts} attempts ..."; the sweep:
// "The delivery sweep held {Count} deliveries ..."; the poison handler: "... it is kept for an operator".
var rules = [
  {
    name: 'held-deliveries'
    description: 'A delivery was held for an operator (GET /api/deliveries?state=Held; re-drive it once the cause is fixed).'
    severity: 2
    query: 'traces | where message has "is held after" or message startswith "The delivery sweep held" or message has "it is kept for an operator"'
  }
  {
    name: 'failed-workflows'
    description: 'An orchestration failed (quarterly cycle, annual refresh, provisioning, delivery): GET /api/workflows?status=Failed.'
    severity: 2
    // The Durable Functions host logs "<instance>: Function '<name> (Orchestrator)' failed with an error. Reason: …".
    query: 'traces | where customDimensions.Category startswith "Host.Triggers.DurableTask" and message has "(Orchestrator)\' failed"'
  }
  {
    name: 'provisioning-refused'
    description: 'A dataset was not provisioned to a project because its suppressed cells could not be applied (ProjectProvisioner, decision 0702).'
    severity: 2
    query: 'traces | where message has "not provisioned to" and message has "suppressed cells cannot be applied"'
  }
  {
    name: 'health-failing'
    description: 'A dependency check of /api/health failed (the log names the dependency; the body never does).'
    severity: 3
    query: 'traces | where message startswith "Health check of"'
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for r in rules: {
  name: 'alert-${namePrefix}-${r.name}'
  location: location
  tags: tags
  properties: {
    displayName: 'linkage: ${r.name}'
    description: r.description
    severity: r.severity
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: r.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: { actionGroups: actions }
  }
}]
