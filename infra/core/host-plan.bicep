@description('Elastic Premium plan of one function app (decision 0900).')
param name string
param location string
param tags object
@allowed(['EP1', 'EP2', 'EP3'])
param sku string = 'EP1'
@minValue(1)
param maximumElasticWorkerCount int = 10

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'elastic'
  sku: {
    tier: 'ElasticPremium'
    name: sku
  }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: maximumElasticWorkerCount
  }
}

output id string = plan.id
