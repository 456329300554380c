// What the `fastify-plugin` package does, without the dependency: marks a plugin function with the
// symbols Fastify itself reads (its name, the decorators and plugins it needs, and whether it shares
// its hooks and decorators with the instance that registers it instead of getting its own scope).
import type { FastifyPluginCallback } from 'fastify';

export interface PluginMeta {
  /** Registered under this name, so other plugins can list it in `dependencies`. */
  name: string;
  /** Plugins that must be registered before this one. */
  dependencies?: string[];
  /** Decorators that must exist when this plugin is registered. */
  decorators?: { fastify?: string[]; request?: string[]; reply?: string[] };
  /**
   * False: hooks, handlers and decorators land on the registering instance (what fastify-plugin does);
   * true: they stay inside the plugin's own scope (a plain Fastify plugin).
   */
  encapsulate: boolean;
}

export function definePlugin<Options extends Record<string, unknown> = Record<never, never>>(
  plugin: FastifyPluginCallback<Options>,
  meta: PluginMeta,
): FastifyPluginCallback<Options> {
  const marked = plugin as FastifyPluginCallback<Options> & Record<symbol, unknown>;
  marked[Symbol.for('skip-override')] = !meta.encapsulate;
  marked[Symbol.for('fastify.display-name')] = meta.name;
  marked[Symbol.for('plugin-meta')] = {
    name: meta.name,
    fastify: '5.x',
    ...(meta.dependencies ? { dependencies: meta.dependencies } : {}),
    ...(meta.decorators ? { decorators: meta.decorators } : {}),
  };
  return marked;
}
