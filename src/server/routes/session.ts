/**
 * Login, logout, who am I, change my password, and my API tokens.
 *
 * Login sets the session cookie (HttpOnly, SameSite=Strict, Secure when the request
 * came over TLS) with a new id every time (any session the browser had is ended), and
 * answers the CSRF token the page sends back on changes. A password change ends every
 * session of the user and starts a new one for the browser that made it.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords.ts';
import { capabilitiesOf } from '../../auth/roles.ts';
import type { Principal } from '../../auth/sessions.ts';
import { UpdraftError } from '../../core/errors.ts';
import { SESSION_COOKIE } from '../access-hooks.ts';
import type { ApiContext } from '../api-context.ts';
import { LoginThrottle } from '../login-throttle.ts';
import { ApiToken, ErrorBody, Me, Ok } from '../schemas.ts';

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);
const PasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
    newPassword: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);
const TokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

const tags = ['session'];

export const sessionRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const throttle = new LoginThrottle();

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/auth/login',
    {
      config: { capability: 'public', audit: 'auth.login' },
      schema: {
        tags,
        summary: 'Log in with a user name and password; sets the session cookie',
        body: LoginBody,
        response: { 200: Me, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      request.auditNote = { username, target: username, details: {} };
      const wait = throttle.retryAfterMs(username, request.ip);
      if (wait > 0) {
        reply.header('retry-after', Math.ceil(wait / 1000));
        return reply.code(429).send({
          statusCode: 429,
          code: 'throttled',
          message: `too many failed logins; try again in ${Math.ceil(wait / 60_000)} minute(s)`,
        });
      }
      const user = await ctx.auth.users.authenticate(username, password);
      if (!user) {
        throttle.failed(username, request.ip);
        return reply
          .code(401)
          .send({ statusCode: 401, code: 'login_failed', message: 'wrong user name or password' });
      }
      throttle.succeeded(username, request.ip);
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await ctx.auth.sessions.destroy(previous);
      const principal: Principal = {
        userId: user.id,
        username: user.username,
        role: user.role,
        via: 'session',
      };
      principal.csrfToken = await startSession(ctx, request, reply, user.id);
      request.principal = principal; // the audit record says who logged in, by session
      return me(principal);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { capability: 'self', audit: 'auth.logout' },
      schema: { tags, summary: 'End this session', response: { 200: Ok } },
    },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) await ctx.auth.sessions.destroy(cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true as const };
    },
  );

  app.get(
    '/auth/me',
    {
      config: { capability: 'self' },
      schema: { tags, summary: 'Who is logged in, with what role', response: { 200: Me } },
    },
    async (request) => me(request.principal!),
  );

  app.post<{ Body: Static<typeof PasswordBody> }>(
    '/auth/password',
    {
      config: { capability: 'self', audit: 'user.password' },
      schema: {
        tags,
        summary: 'Change my password (ends all my sessions; this browser gets a new one)',
        body: PasswordBody,
        response: { 200: Me, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      request.auditNote = { target: principal.username };
      const ok = await ctx.auth.users.authenticate(
        principal.username,
        request.body.currentPassword,
      );
      if (!ok) {
        throw new UpdraftError('password_wrong', 'the current password is wrong');
      }
      await ctx.auth.users.setPassword(principal.username, request.body.newPassword);
      if (principal.via === 'session') {
        principal.csrfToken = await startSession(ctx, request, reply, principal.userId);
      }
      return me(principal);
    },
  );

  app.get(
    '/tokens',
    {
      config: { capability: 'self' },
      schema: {
        tags,
        summary: 'My API tokens (never the secrets)',
        response: { 200: Type.Array(ApiToken) },
      },
    },
    async (request) => ctx.auth.tokens.list(request.principal!.userId),
  );

  app.post<{ Body: Static<typeof TokenBody> }>(
    '/tokens',
    {
      config: { capability: 'self', audit: 'token.create' },
      schema: {
        tags,
        summary: 'Create an API token; the token is in this response only',
        body: TokenBody,
        response: { 201: Type.Intersect([ApiToken, Type.Object({ token: Type.String() })]) },
      },
    },
    async (request, reply) => {
      const created = await ctx.auth.tokens.create(
        request.principal!.userId,
        request.body.name,
        request.body.expiresInDays,
      );
      request.auditNote = { target: `${request.principal!.username}/${created.name}` };
      return reply.code(201).send(created);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/tokens/:id',
    {
      config: { capability: 'self', audit: 'token.revoke' },
      schema: {
        tags,
        summary: 'Revoke one of my API tokens',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Ok, 404: ErrorBody },
      },
    },
    async (request) => {
      await ctx.auth.tokens.revoke(request.principal!.userId, request.params.id);
      return { ok: true as const };
    },
  );
};

/** Creates a session, sets its cookie, returns its CSRF token. */
async function startSession(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  userId: number,
): Promise<string> {
  const session = await ctx.auth.sessions.create(userId, {
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  });
  reply.setCookie(SESSION_COOKIE, session.token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: session.expiresAt,
  });
  return session.csrfToken;
}

function me(principal: Principal): Static<typeof Me> {
  return {
    username: principal.username,
    role: principal.role,
    via: principal.via,
    capabilities: capabilitiesOf(principal.role),
    ...(principal.csrfToken === undefined ? {} : { csrfToken: principal.csrfToken }),
  };
}
