# Rectify API (and the push client): multi-stage build, small non-root runtime image. Configuration comes only from
# environment variables; the image has no PostgreSQL of its own, no development key and no demo data, so
# ConnectionStrings__Rectify must point at the database. Probes: GET /health/live (liveness) and GET /health/ready
# (readiness) on port 8080 — the runtime image has no curl, so let the orchestrator or proxy probe over HTTP.
# --build-arg PDF=true adds Chromium and a CJK font, for the progress report as PDF (format=pdf); without it that
# format answers 503 pdf-unavailable.
ARG PDF=false

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore in its own layer: it is redone only when a project file changes, not on every source edit.
COPY Directory.Build.props ./
COPY src/Rectify.Api/Rectify.Api.csproj src/Rectify.Api/
COPY src/Rectify.Push/Rectify.Push.csproj src/Rectify.Push/
RUN dotnet restore src/Rectify.Api/Rectify.Api.csproj && dotnet restore src/Rectify.Push/Rectify.Push.csproj
COPY src/Rectify.Api/ src/Rectify.Api/
COPY src/Rectify.Push/ src/Rectify.Push/
RUN dotnet publish src/Rectify.Api/Rectify.Api.csproj --configuration Release --no-restore --output /app \
 && dotnet publish src/Rectify.Push/Rectify.Push.csproj --configuration Release --no-restore --output /app/push

# The runtime's base, chosen by PDF. The default base (Ubuntu) ships Chromium only as a snap, which does not run in a
# container; Alpine packages it natively. Alpine's .NET image is globalization-invariant by default: the service needs
# ICU (Chinese collation and texts) and the time-zone database, so PDF=true adds both and turns ICU back on.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime-false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-alpine AS runtime-true
RUN apk add --no-cache chromium font-noto-cjk icu-libs icu-data-full tzdata
ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=false

FROM runtime-${PDF} AS runtime
WORKDIR /app
COPY --from=build /app ./
# Listen on every interface inside the container (the default, 127.0.0.1, is for a developer's machine); never load
# the demo data unless Database__LoadDemoData=true is passed; logs as JSON lines with the trace id.
ENV Urls=http://+:8080 \
    Database__LoadDemoData=false \
    Rectify__Telemetry__LogFormat=json \
    DOTNET_gcServer=0
EXPOSE 8080
# The base image's unprivileged user.
USER $APP_UID
# `docker run … rectify keys create --name ops-admin --scopes admin` creates the first admin key;
# `docker run --entrypoint dotnet … rectify push/rectify-push.dll …` runs the push client.
ENTRYPOINT ["dotnet", "Rectify.Api.dll"]
