// Package webhook is the built-in webhook plugin kind, the ext_authz of
// MCP: at each hook it POSTs the payload and the exchange's context to a
// team's own policy service and applies the answer, written in
// ContextForge's PluginResult JSON — continue, a modified payload, or a
// violation that blocks.
//
// The request is the argument object of ContextForge's invoke_hook
// (hook_type, plugin_name, payload, context), so a service written for an
// external cpex plugin's hooks reads it unchanged. When the service fails
// the plugin blocks or lets the message pass as on_service_error says. It
// is not ContextForge's WebhookNotificationPlugin, which only notifies.
// Its client is plugins/internal/outbound. Importing the package registers
// the kind.
package webhook
