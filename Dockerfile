# The application image used by docker-compose.yml (npm fetches the COG package at load time).
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/cpts
COPY pyproject.toml README.md ./
COPY app ./app
COPY geodata ./geodata
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .
# The map's assets: Leaflet and its plugins from npm at the versions folium pins, copied into
# app/web/vendor/ (what `make assets` does).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
    && python -m app.services.map_assets install \
    && python -m app.services.docs_assets install \
    && rm -rf node_modules
EXPOSE 8000
CMD ["cpts", "serve"]
