# Rectify API: multi-stage build, small non-root runtime image. Configuration comes from environment variables;
# the image has no PostgreSQL of its own, so ConnectionStrings__Rectify must point at the database.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props ./
COPY src/Rectify.Api/Rectify.Api.csproj src/Rectify.Api/
RUN dotnet restore src/Rectify.Api/Rectify.Api.csproj
COPY src/Rectify.Api/ src/Rectify.Api/
RUN dotnet publish src/Rectify.Api/Rectify.Api.csproj --configuration Release --no-restore --output /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Listen on every interface inside the container (the default, 127.0.0.1, is for a developer's machine).
ENV Urls=http://+:8080 \
    Database__LoadDemoData=false \
    DOTNET_gcServer=0
EXPOSE 8080
# The base image's unprivileged user.
USER $APP_UID
ENTRYPOINT ["dotnet", "Rectify.Api.dll"]
