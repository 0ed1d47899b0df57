#!/usr/bin/env node
import '../dist/palisade.js';
